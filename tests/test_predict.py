"""predict() on single and batched observations of every kind, and SB3's evaluate_policy on REINFORCE."""

import gymnasium as gym
import numpy as np
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.monitor import Monitor

from sb3_reinforce import REINFORCE
from tests.envs import dict_env


def test_predict_single_and_batched():
    model = REINFORCE("MlpPolicy", "CartPole-v1", n_episodes=2, seed=0)
    model.learn(200)
    env = gym.make("CartPole-v1")
    obs, _ = env.reset(seed=0)
    action, state = model.predict(obs, deterministic=True)
    assert state is None
    assert action.shape == ()
    assert env.action_space.contains(action)
    env.step(action)  # a single action is accepted as is by the env

    batch = np.stack([env.observation_space.sample() for _ in range(5)])
    actions, _ = model.predict(batch, deterministic=True)
    assert actions.shape == (5,)
    for row, expected in zip(batch, actions, strict=True):
        assert model.predict(row, deterministic=True)[0] == expected

    # Continuous actions are clipped to the bounds
    box = REINFORCE("MlpPolicy", gym.make("Pendulum-v1"), n_episodes=2, seed=0)
    pendulum = gym.make("Pendulum-v1")
    obs, _ = pendulum.reset(seed=0)
    action, _ = box.predict(obs)
    assert action.shape == (1,) and pendulum.action_space.contains(action)
    actions, _ = box.predict(np.stack([obs] * 4))
    assert actions.shape == (4, 1)
    assert np.all((actions >= -2.0) & (actions <= 2.0))

    # Dict observations
    multi = REINFORCE("MultiInputPolicy", dict_env(), n_episodes=2, seed=0)
    dict_obs, _ = dict_env().reset(seed=0)
    action, _ = multi.predict(dict_obs, deterministic=True)
    assert action.shape == ()
    actions, _ = multi.predict({key: np.stack([value] * 3) for key, value in dict_obs.items()}, deterministic=True)
    np.testing.assert_array_equal(actions, [action] * 3)


def test_evaluate_policy():
    model = REINFORCE("MlpPolicy", "CartPole-v1", n_episodes=2, seed=0)
    model.learn(200)
    eval_env = Monitor(gym.make("CartPole-v1"))
    mean_reward, std_reward = evaluate_policy(model, eval_env, n_eval_episodes=3)
    assert np.isfinite(mean_reward) and np.isfinite(std_reward)
    assert 8 <= mean_reward <= 500
    rewards, lengths = evaluate_policy(model, model.get_env(), n_eval_episodes=3, return_episode_rewards=True)
    assert len(rewards) == len(lengths) == 3
    np.testing.assert_allclose(rewards, lengths)  # CartPole pays 1 per step
