"""REINFORCE with its defaults learns CartPole-v1 within a fixed budget."""

import torch as th
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy

from sb3_reinforce import REINFORCE


def test_cartpole_reaches_195():
    th.set_num_threads(1)
    model = REINFORCE("MlpPolicy", make_vec_env("CartPole-v1", n_envs=8, seed=0), seed=0)
    model.learn(100_000)
    mean_reward, _ = evaluate_policy(
        model, make_vec_env("CartPole-v1", n_envs=1, seed=1), n_eval_episodes=20, deterministic=True
    )
    assert mean_reward >= 195
