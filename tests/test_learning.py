"""REINFORCE learns within a fixed budget: CartPole-v1 with its defaults, and InvertedPendulum-v5 (continuous
actions) with its zoo entry. Every other learning claim is a benchmark (docs/benchmarks.md, docs/mujoco.md)."""

import pytest
import torch as th
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import sync_envs_normalization

from sb3_reinforce import REINFORCE, SubsetDummyVecEnv

# 100k and 150k env steps: a minute or more each
pytestmark = pytest.mark.slow


def test_cartpole_reaches_195():
    th.set_num_threads(1)
    env = make_vec_env("CartPole-v1", n_envs=8, seed=0, vec_env_cls=SubsetDummyVecEnv)
    model = REINFORCE("MlpPolicy", env, seed=0)
    model.learn(100_000)
    mean_reward, _ = evaluate_policy(
        model, make_vec_env("CartPole-v1", n_envs=1, seed=1), n_eval_episodes=20, deterministic=True
    )
    assert mean_reward >= 195


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
