"""REINFORCE learns within a fixed budget: CartPole-v1 and InvertedPendulum-v5 (continuous actions) with the class
defaults alone, and InvertedPendulum-v5 with its zoo entry. Every other learning claim is a benchmark
(docs/benchmarks.md, docs/mujoco.md)."""

import pytest
import torch as th
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import sync_envs_normalization

from sb3_reinforce import REINFORCE, SubsetDummyVecEnv


def test_the_class_defaults_alone_learn_a_continuous_control_env():
    # What a user tries first on their own env: REINFORCE("MlpPolicy", env), no entry, no VecNormalize. 12k steps
    # (seconds); on trial seeds 0-7 the untrained policy scores 22-28 and the trained one 88-709 (seed 0: 709)
    pytest.importorskip("mujoco")
    th.set_num_threads(1)
    env = make_vec_env("InvertedPendulum-v5", n_envs=8, seed=0, vec_env_cls=SubsetDummyVecEnv)
    eval_env = make_vec_env("InvertedPendulum-v5", n_envs=1, seed=10_000)
    model = REINFORCE("MlpPolicy", env, seed=0)
    before, _ = evaluate_policy(model, eval_env, n_eval_episodes=10)
    model.learn(12_000)
    after, _ = evaluate_policy(model, eval_env, n_eval_episodes=10)
    assert before < 40 and after >= 150, (before, after)


@pytest.mark.slow  # 100k env steps: a minute or more
def test_cartpole_reaches_195():
    th.set_num_threads(1)
    env = make_vec_env("CartPole-v1", n_envs=8, seed=0, vec_env_cls=SubsetDummyVecEnv)
    model = REINFORCE("MlpPolicy", env, seed=0)
    model.learn(100_000)
    mean_reward, _ = evaluate_policy(
        model, make_vec_env("CartPole-v1", n_envs=1, seed=1), n_eval_episodes=20, deterministic=True
    )
    assert mean_reward >= 195


@pytest.mark.slow  # 150k env steps
def test_inverted_pendulum_reaches_900_with_its_zoo_entry(tmp_path):
    pytest.importorskip("mujoco")
    from sb3_reinforce.zoo import experiment_manager

    exp = experiment_manager("reinforce", "InvertedPendulum-v5", seed=0, log_folder=str(tmp_path), n_timesteps=150_000)
    model, _ = exp.setup_experiment()
    model.learn(150_000)
    eval_env = exp.create_envs(1, eval_env=True)
    sync_envs_normalization(model.get_env(), eval_env)
    mean_reward, _ = evaluate_policy(model, eval_env, n_eval_episodes=10, deterministic=True)
    assert mean_reward >= 900
