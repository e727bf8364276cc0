"""Stepping only some envs: the Subset VecEnvs, the wrappers above them, and what REINFORCE does with them."""

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv, VecFrameStack, VecMonitor, VecNormalize

from sb3_reinforce import REINFORCE, SubsetDummyVecEnv, SubsetSubprocVecEnv
from sb3_reinforce.vec_env import step_subset, subset_step_unsupported
from tests.envs import ScriptedEnv

# Two envs: env 0's episodes last 3, 1, 3, 1, ... steps; env 1's last 2, 5, 2, 5, ...
ENV_FNS = [lambda: ScriptedEnv([3, 1], tag=0), lambda: ScriptedEnv([2, 5], tag=1)]
# (envs stepped) at each call of the pattern below
PATTERN = [[0], [0], [1], [0, 1], [1], [0]]


def run_pattern(env):
    env.reset()
    out = []
    for indices in PATTERN:
        actions = np.zeros(len(indices), dtype=np.int64)
        out.append(step_subset(env, np.array(indices), actions))
    return out


@pytest.mark.parametrize("vec_env_cls", [SubsetDummyVecEnv, SubsetSubprocVecEnv])
def test_only_the_named_envs_step(vec_env_cls):
    env = vec_env_cls(ENV_FNS)
    try:
        out = run_pattern(env)
    finally:
        env.close()
    # env 0 steps at calls 0, 1, 3, 5: t = 1, 2, 3 (episode 0 ends: reset obs k=1, t=0), then episode 1's step
    obs, rewards, dones, infos = zip(*out, strict=True)
    assert [o.shape[0] for o in obs] == [1, 1, 1, 2, 1, 1]
    np.testing.assert_array_equal(obs[1][0], [0, 0, 2])
    np.testing.assert_array_equal(obs[3][0], [0, 1, 0])  # env 0 ended its 3-step episode and was reset
    np.testing.assert_array_equal(infos[3][0]["terminal_observation"], [0, 0, 3])
    # env 1 steps at calls 2, 3, 4: its 2-step episode ends at call 3
    assert [d.tolist() for d in dones] == [[False], [False], [False], [True, True], [False], [True]]
    np.testing.assert_array_equal(rewards[4], [10.0])  # env 1, episode 1, t=0
    # A full step afterwards is the parent's
    env = vec_env_cls(ENV_FNS)
    try:
        env.reset()
        obs_all, *_ = env.step(np.zeros(2, dtype=np.int64))
    finally:
        env.close()
    np.testing.assert_array_equal(obs_all, [[0, 0, 1], [1, 0, 1]])


def test_subproc_and_dummy_agree():
    dummy, subproc = SubsetDummyVecEnv(ENV_FNS), SubsetSubprocVecEnv(ENV_FNS)
    try:
        for a, b in zip(run_pattern(dummy), run_pattern(subproc), strict=True):
            for x, y in zip(a[:3], b[:3], strict=True):
                np.testing.assert_array_equal(x, y)
            assert [set(i) for i in a[3]] == [set(i) for i in b[3]]
    finally:
        subproc.close()


def test_vec_normalize_sees_only_real_steps():
    env = VecNormalize(SubsetDummyVecEnv(ENV_FNS), gamma=0.5)
    run_pattern(env)
    # reset: 2 observations; then one row per env stepped
    n_steps = sum(len(indices) for indices in PATTERN)
    assert env.obs_rms.count == pytest.approx(1e-4 + 2 + n_steps)
    assert env.ret_rms.count == pytest.approx(1e-4 + n_steps)
    # Each env's discounted return runs over its own steps only. env 0: rewards 0, 1 (episode 0), then 2 ends
    # it (reset to 0), then 10 (episode 1, which ends there: 1 step). env 1: 0, 1 (ends), 10 (episode 1, t=0),
    # then nothing more: its return is 10 * 0.5^0.
    np.testing.assert_allclose(env.returns, [0.0, 10.0])


def test_vec_monitor_counts_only_real_steps():
    env = VecMonitor(SubsetDummyVecEnv(ENV_FNS))
    out = run_pattern(env)
    episodes = [info["episode"] for _, _, _, infos in out for info in infos if "episode" in info]
    # env 0's 3-step episode (rewards 0+1+2), env 1's 2-step one (0+1), env 0's 1-step one (10)
    assert [(e["l"], e["r"]) for e in episodes] == [(3, 3.0), (2, 1.0), (1, 10.0)]


def test_monitor_below_sees_episodes_of_their_true_length():
    env = make_vec_env("CartPole-v1", n_envs=4, seed=0, vec_env_cls=SubsetDummyVecEnv)
    model = REINFORCE("MlpPolicy", env, n_episodes=2, seed=0)
    model.learn(2_000)
    assert all(isinstance(e, Monitor) for e in env.envs)
    # Monitor saw every real step and no other: its finished episodes plus the running ones add up to the steps
    finished = sum(length for e in env.envs for length in e.get_episode_lengths())
    running = sum(len(e.rewards) for e in env.envs)
    assert finished + running == model.num_timesteps
    assert model._n_discarded_steps == 0


def test_unknown_wrapper_falls_back_to_stepping_all_envs():
    env = VecFrameStack(SubsetDummyVecEnv([lambda: gym.make("CartPole-v1")] * 2), n_stack=2)
    assert "VecFrameStack" in subset_step_unsupported(env)
    assert "DummyVecEnv" in subset_step_unsupported(DummyVecEnv([lambda: gym.make("CartPole-v1")] * 2))
    model = REINFORCE("MlpPolicy", env, n_episodes=2, seed=0)
    with pytest.warns(UserWarning, match="steps all 2 envs at every step because the VecEnv wrapper VecFrameStack"):
        model.learn(500)
    # Stepping all envs: both envs step every time
    assert model.num_timesteps % 2 == 0


def test_subset_collection_with_vec_normalize_learns_without_waste():
    env = VecNormalize(make_vec_env("CartPole-v1", n_envs=4, seed=0, vec_env_cls=SubsetSubprocVecEnv))
    try:
        model = REINFORCE("MlpPolicy", env, n_episodes=4, seed=0)
        model.learn(3_000)
    finally:
        env.close()
    assert model._n_discarded_steps == 0
    assert model._n_updates > 0
