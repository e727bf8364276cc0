"""Stepping only some envs: the Subset VecEnvs' contract, the wrappers above them, and what REINFORCE does with them."""

import hashlib
import importlib
import inspect
import re

import gymnasium as gym
import numpy as np
import pytest
import stable_baselines3
from gymnasium import spaces
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv, VecCheckNan, VecFrameStack, VecMonitor, VecNormalize

from sb3_reinforce import REINFORCE, SubsetDummyVecEnv, SubsetSubprocVecEnv
from sb3_reinforce.vec_env import SB3_RELIED_ON, SB3_VERSION, check_sb3_version, subset_step_unsupported
from tests.envs import ScriptedEnv

# Each worker process imports torch and SB3 (forkserver): seconds per env
SUBPROC = pytest.param(SubsetSubprocVecEnv, marks=pytest.mark.slow)

# Two envs: env 0's episodes last 3, 1, 3, 1, ... steps; env 1's last 2, 5, 2, 5, ...
ENV_FNS = [lambda: ScriptedEnv([3, 1], tag=0), lambda: ScriptedEnv([2, 5], tag=1)]
# (envs stepped) at each call of the pattern below
PATTERN = [[0], [0], [1], [0, 1], [1], [0]]


def step_subset(env, indices, actions):
    """Step the envs ``indices`` of ``env`` (the outermost VecEnv) through its wrappers."""
    return env.unwrapped.step_subset(indices, actions, env=env)


def run_pattern(env):
    env.reset()
    out = []
    for indices in PATTERN:
        actions = np.zeros(len(indices), dtype=np.int64)
        out.append(step_subset(env, np.array(indices), actions))
    return out


@pytest.mark.parametrize("vec_env_cls", [SubsetDummyVecEnv, SUBPROC])
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


@pytest.mark.parametrize("vec_env_cls", [SubsetDummyVecEnv, SUBPROC])
def test_every_reset_and_step_is_counted_through_the_wrappers(vec_env_cls):
    # REINFORCE compares the count with the one at the end of learn() to see that someone else moved the envs
    env = VecNormalize(vec_env_cls(ENV_FNS))
    try:
        assert env.unwrapped.n_calls == 0
        run_pattern(env)  # one reset, six subset steps
        assert env.unwrapped.n_calls == 7
        env.step(np.zeros(2, dtype=np.int64))
        env.get_attr("t")  # reading does not count
        assert env.unwrapped.n_calls == 8
    finally:
        env.close()


@pytest.mark.slow  # worker processes
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


@pytest.mark.slow  # 2,000 steps of learning
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


@pytest.mark.slow  # worker processes
def test_subset_collection_with_vec_normalize_learns_without_waste():
    env = VecNormalize(make_vec_env("CartPole-v1", n_envs=4, seed=0, vec_env_cls=SubsetSubprocVecEnv))
    try:
        model = REINFORCE("MlpPolicy", env, n_episodes=4, seed=0)
        model.learn(3_000)
    finally:
        env.close()
    assert model._n_discarded_steps == 0
    assert model._n_updates > 0


# The contract of step_subset


class DictObs(gym.ObservationWrapper):
    """ScriptedEnv with a Dict observation: ``state`` is [tag, k, t], ``t`` is [t] alone."""

    def __init__(self, env):
        super().__init__(env)
        box = env.observation_space
        self.observation_space = spaces.Dict({"state": box, "t": spaces.Box(-1e6, 1e6, (1,), np.float32)})

    def observation(self, observation):
        return {"state": observation, "t": observation[2:]}


FOUR_ENVS = [lambda i=i: ScriptedEnv([3], tag=i) for i in range(4)]
# Three subset steps of four 3-step envs, and the raw observation [tag, k, t] and reward 10k + t each env has after
# them: A steps envs 1 and 3 (t: 0 -> 1); B the same (reward 1); C envs 0 and 3, where env 3 ends its episode
# (reward 2) and is reset to episode 1. Env 2 is never stepped: its observation is the reset's, its reward none (0).
SUBSET_STEPS = [[1, 3], [1, 3], [0, 3]]
ORIGINAL_OBS = [[0, 0, 1], [1, 0, 2], [2, 0, 0], [3, 1, 0]]
ORIGINAL_REWARD = [0.0, 1.0, 0.0, 2.0]


@pytest.mark.parametrize("vec_env_cls", [SubsetDummyVecEnv, SUBPROC])
def test_vec_normalize_original_obs_and_reward_keep_a_row_per_env(vec_env_cls):
    env = VecNormalize(vec_env_cls(FOUR_ENVS))
    try:
        env.reset()
        for indices in SUBSET_STEPS:
            step_subset(env, indices, np.zeros(len(indices), dtype=np.int64))
        np.testing.assert_array_equal(env.get_original_obs(), ORIGINAL_OBS)
        np.testing.assert_array_equal(env.get_original_reward(), ORIGINAL_REWARD)
        # A full step afterwards is SB3's, on every row
        env.step(np.zeros(4, dtype=np.int64))
        np.testing.assert_array_equal(env.get_original_obs()[:, 2], [2, 0, 1, 1])
        np.testing.assert_array_equal(env.get_original_reward(), [1.0, 2.0, 0.0, 10.0])
    finally:
        env.close()


@pytest.mark.parametrize("vec_env_cls", [SubsetDummyVecEnv, SUBPROC])
def test_vec_normalize_original_obs_with_dict_observations(vec_env_cls):
    env = VecNormalize(vec_env_cls([lambda fn=fn: DictObs(fn()) for fn in FOUR_ENVS]))
    try:
        env.reset()
        for indices in SUBSET_STEPS:
            obs, *_ = step_subset(env, indices, np.zeros(len(indices), dtype=np.int64))
            assert obs["state"].shape == (2, 3) and obs["t"].shape == (2, 1)  # the stepped envs' rows, normalized
        original = env.get_original_obs()
        np.testing.assert_array_equal(original["state"], ORIGINAL_OBS)
        np.testing.assert_array_equal(original["t"], np.array(ORIGINAL_OBS)[:, 2:])
        np.testing.assert_array_equal(env.get_original_reward(), ORIGINAL_REWARD)
    finally:
        env.close()


def test_every_wrapper_keeps_its_per_env_state_full_width():
    base = SubsetDummyVecEnv(FOUR_ENVS)
    check_nan = VecCheckNan(base)
    monitor = VecMonitor(check_nan)
    env = VecNormalize(monitor, gamma=0.5)
    env.reset()
    for indices, action in zip(SUBSET_STEPS, [1, 0, 1], strict=True):
        step_subset(env, indices, np.full(len(indices), action, dtype=np.int64))
    # The last action each env was given: env 0 at C (1), env 1 at B (0), env 2 none, env 3 at C (1)
    np.testing.assert_array_equal(check_nan._actions, [1, 0, 0, 1])
    np.testing.assert_array_equal(check_nan._observations, ORIGINAL_OBS)
    # Episode sums run over each env's own steps; env 3's episode ended at C
    np.testing.assert_array_equal(monitor.episode_lengths, [1, 2, 0, 0])
    np.testing.assert_array_equal(monitor.episode_returns, [0.0, 1.0, 0.0, 0.0])
    # Discounted returns, gamma = 0.5: env 1: 0, then 0 * 0.5 + 1
    np.testing.assert_array_equal(env.returns, [0.0, 1.0, 0.0, 0.0])


def test_restoring_the_state_leaves_the_arrays_returned_earlier_alone():
    env = VecCheckNan(SubsetDummyVecEnv(FOUR_ENVS))
    obs = env.reset()  # VecCheckNan keeps this very array as its last observations
    step_subset(env, [1, 3], np.zeros(2, dtype=np.int64))
    np.testing.assert_array_equal(obs, [[i, 0, 0] for i in range(4)])
    np.testing.assert_array_equal(env._observations, [[0, 0, 0], [1, 0, 1], [2, 0, 0], [3, 0, 1]])


def test_envs_not_stepped_are_not_touched():
    env = SubsetDummyVecEnv(FOUR_ENVS)
    env.reset()
    reset_infos = [dict(info, mark=i) for i, info in enumerate(env.reset_infos)]
    env.reset_infos = [dict(info) for info in reset_infos]
    for indices in SUBSET_STEPS:
        obs, rewards, dones, infos = step_subset(env, indices, np.zeros(len(indices), dtype=np.int64))
    # The last step's rows, in the order of indices: env 0 mid-episode, env 3 reset after its terminal step
    np.testing.assert_array_equal(obs, [ORIGINAL_OBS[0], ORIGINAL_OBS[3]])
    np.testing.assert_array_equal(rewards, [0.0, 2.0])
    np.testing.assert_array_equal(dones, [False, True])
    np.testing.assert_array_equal(infos[1]["terminal_observation"], [3, 0, 3])
    assert [(e.episode, e.t) for e in env.envs] == [(0, 1), (0, 2), (0, 0), (1, 0)]
    # Only env 3 was reset: the others keep their reset info
    assert [info.get("mark") for info in env.reset_infos] == [0, 1, 2, None]


@pytest.mark.parametrize("vec_env_cls", [SubsetDummyVecEnv, SUBPROC])
def test_stepping_every_env_by_subset_is_a_step(vec_env_cls):
    by_subset, whole = VecNormalize(vec_env_cls(ENV_FNS)), VecNormalize(vec_env_cls(ENV_FNS))
    try:
        by_subset.reset(), whole.reset()
        for _ in range(4):
            actions = np.zeros(2, dtype=np.int64)
            a, b = step_subset(by_subset, [0, 1], actions), whole.step(actions)
            for x, y in zip(a[:3], b[:3], strict=True):
                np.testing.assert_array_equal(x, y)
        np.testing.assert_array_equal(by_subset.returns, whole.returns)
        np.testing.assert_array_equal(by_subset.get_original_obs(), whole.get_original_obs())
    finally:
        by_subset.close(), whole.close()


@pytest.mark.parametrize(
    "indices, n_actions, match",
    [
        ([], 0, "indices must be"),
        ([1, 0], 2, "indices must be"),
        ([0, 0], 2, "indices must be"),
        ([4], 1, "indices must be"),
        ([-1], 1, "indices must be"),
        ([0.0], 1, "indices must be"),
        ([[0, 1]], 1, "indices must be"),
        ([0, 1], 1, "actions must hold one action per env of indices \\(2\\), got 1"),
    ],
)
def test_step_subset_rejects_bad_input(indices, n_actions, match):
    env = SubsetDummyVecEnv(FOUR_ENVS)
    env.reset()
    with pytest.raises(ValueError, match=match):
        env.step_subset(indices, np.zeros(n_actions, dtype=np.int64), env=env)


def test_step_subset_needs_the_outermost_env():
    base = SubsetDummyVecEnv(FOUR_ENVS)
    env = VecNormalize(base)
    env.reset()
    actions = np.zeros(1, dtype=np.int64)
    # Through a wrapper's attribute forwarding, a call without env would bypass the wrappers: it fails instead
    with pytest.raises(TypeError, match="env"):
        env.step_subset([0], actions)
    with pytest.raises(ValueError, match="env must be this VecEnv or a wrapper chain around it"):
        SubsetDummyVecEnv(FOUR_ENVS).step_subset([0], actions, env=env)
    with pytest.raises(ValueError, match="VecFrameStack is not known to work on a subset"):
        base.step_subset([0], actions, env=VecFrameStack(base, n_stack=2))
    assert env.returns.shape == (4,) and base.envs[0].t == 0


# Contracts over copies: the SB3 private pieces vec_env.py relies on


def test_subset_vec_envs_refuse_another_sb3_minor_version(monkeypatch):
    assert SB3_VERSION == "2.9"
    check_sb3_version("2.9.7")
    with pytest.raises(RuntimeError, match=re.escape("stable-baselines3 2.9.x, but stable-baselines3 2.10.0 is")):
        check_sb3_version("2.10.0")
    monkeypatch.setattr(stable_baselines3, "__version__", "3.0.1")
    with pytest.raises(RuntimeError, match=re.escape("stable-baselines3 3.0.1 is installed")):
        SubsetDummyVecEnv(ENV_FNS)
    DummyVecEnv(ENV_FNS)  # SB3's own VecEnvs do not care


# sha256 (first 16 hex digits) of inspect.getsource() of each piece of SB3 2.9.2 listed in vec_env.SB3_RELIED_ON
SB3_SOURCE_HASHES = {
    "stable_baselines3.common.vec_env.base_vec_env.VecEnv.step": "59586fc8d297dc13",
    "stable_baselines3.common.vec_env.dummy_vec_env.DummyVecEnv.__init__": "bcaec45c0991e77b",
    "stable_baselines3.common.vec_env.dummy_vec_env.DummyVecEnv.step_async": "7c8c22099cfd0842",
    "stable_baselines3.common.vec_env.dummy_vec_env.DummyVecEnv.step_wait": "acbf90e67a7195a5",
    "stable_baselines3.common.vec_env.dummy_vec_env.DummyVecEnv._save_obs": "7e65da7ed84a35ea",
    "stable_baselines3.common.vec_env.dummy_vec_env.DummyVecEnv._obs_from_buf": "67e47a7fff7967e0",
    "stable_baselines3.common.vec_env.subproc_vec_env._worker": "1be31eb7f21f5d1f",
    "stable_baselines3.common.vec_env.subproc_vec_env.SubprocVecEnv.step_async": "531069e3fa596170",
    "stable_baselines3.common.vec_env.subproc_vec_env.SubprocVecEnv.step_wait": "f689425614a2e890",
    "stable_baselines3.common.vec_env.subproc_vec_env.SubprocVecEnv.close": "5a408bcc50290a2d",
    "stable_baselines3.common.vec_env.subproc_vec_env._stack_obs": "cc6e60a5e29ac8a6",
    "stable_baselines3.common.vec_env.vec_normalize.VecNormalize.step_wait": "9b005da93b70fc4e",
    "stable_baselines3.common.vec_env.vec_normalize.VecNormalize._update_reward": "2cbddb41a7fa0a4a",
    "stable_baselines3.common.vec_env.vec_normalize.VecNormalize.reset": "903c7902eb270816",
    "stable_baselines3.common.vec_env.vec_monitor.VecMonitor.step_wait": "1852c72242ddede2",
    "stable_baselines3.common.vec_env.vec_monitor.VecMonitor.reset": "7da66026f6e66c73",
    "stable_baselines3.common.vec_env.vec_check_nan.VecCheckNan.step_async": "b61790e7eb932f1c",
    "stable_baselines3.common.vec_env.vec_check_nan.VecCheckNan.step_wait": "9a97681daa2aa5be",
    "stable_baselines3.common.vec_env.vec_transpose.VecTransposeImage.step_wait": "5f6696d5fb63c8f0",
    "stable_baselines3.common.vec_env.vec_extract_dict_obs.VecExtractDictObs.step_wait": "31bdaf80d33d9736",
}


def _resolve(dotted_name):
    """:return: The object a dotted name refers to: the longest importable module, then attributes"""
    parts = dotted_name.split(".")
    for split in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for part in parts[split:]:
            obj = getattr(obj, part)
        return obj
    raise ImportError(dotted_name)


def test_sb3_pieces_we_rely_on_are_unchanged():
    assert set(SB3_SOURCE_HASHES) == set(SB3_RELIED_ON), "every piece in vec_env.SB3_RELIED_ON needs a hash here"
    for name, expected in SB3_SOURCE_HASHES.items():
        source = inspect.getsource(_resolve(name))
        digest = hashlib.sha256(source.encode()).hexdigest()[:16]
        assert digest == expected, (
            f"{name} changed in stable-baselines3 {stable_baselines3.__version__} (source hash {digest}, was {expected} "
            f"in 2.9.2). sb3_reinforce/vec_env.py relies on it: {SB3_RELIED_ON[name]}. Re-read its new source (below), "
            "carry the change over to the code that relies on it (the copies keep SB3's lines; their changed lines "
            "are marked REINFORCE) and to SUBSET_ADAPTERS, run tests/test_vec_env.py, then update the hash here and, "
            f"on a new minor version, vec_env.SB3_VERSION.\n\n{source}"
        )
