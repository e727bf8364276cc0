"""Failing loudly instead of silently or never: learn()'s budget holds, a NaN names its env and trains nothing, an
episode that never ends is bounded in memory and warned about, and a worker's fault ends learn()."""

import contextlib
import signal
import time
from contextlib import contextmanager

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from gymnasium.wrappers import TimeLimit
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

from sb3_reinforce import REINFORCE, SubsetDummyVecEnv, SubsetSubprocVecEnv
from tests.envs import BadValueEnv, NeverEndingEnv
from tests.helpers import quiet


@contextmanager
def time_limit(seconds: int):
    """Fail instead of hanging the suite (SIGALRM: the main thread on Linux)."""

    def handler(signum, frame):
        raise TimeoutError(f"did not finish within {seconds} s")

    previous = signal.signal(signal.SIGALRM, handler)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# ---------------------------------------------------------------------------------------------------
# learn(total_timesteps) is a budget
# ---------------------------------------------------------------------------------------------------


@pytest.mark.slow  # 3,000 steps of envs whose episodes do not end
@pytest.mark.parametrize("vec_env_cls", [DummyVecEnv, SubsetDummyVecEnv])
def test_budget_holds_with_long_episodes(vec_env_cls):
    env = vec_env_cls([lambda: TimeLimit(NeverEndingEnv(), 50_000)] * 2)
    model = quiet(lambda: REINFORCE("MlpPolicy", env, n_episodes=2, seed=0))
    with time_limit(60), pytest.warns(UserWarning, match="without a single update: 0 of the 2 episodes"):
        model.learn(3_001)
    # At most one vector step (2 envs) past the budget, and nothing trained on the cut batch
    assert 3_001 <= model.num_timesteps <= 3_001 + 1
    assert model._n_updates == 0
    assert model._batch_progress is not None and model._batch_progress.n_env_steps == model.num_timesteps


@pytest.mark.slow  # 20k steps
def test_budget_holds_when_episodes_never_end():
    env = SubsetDummyVecEnv([NeverEndingEnv] * 2)
    model = quiet(lambda: REINFORCE("MlpPolicy", env, n_episodes=2, seed=0))
    with time_limit(60), pytest.warns(UserWarning, match="without a single update"):
        model.learn(20_000)
    assert model.num_timesteps == 20_000


# ---------------------------------------------------------------------------------------------------
# NaN during collection
# ---------------------------------------------------------------------------------------------------


def bad_vec_env(where, at, env_class=BadValueEnv):
    """3 envs, only env 2 goes bad (the others' bad step, 100, never comes: episodes last 10 steps)."""
    return DummyVecEnv([lambda: TimeLimit(env_class(at=100), 50)] * 2 + [lambda: TimeLimit(env_class(at=at, where=where), 50)])


def assert_all_finite(model):
    for name, param in model.policy.named_parameters():
        assert th.isfinite(param).all(), f"{name} is not finite"


@pytest.mark.parametrize(
    "where, at, text",
    [
        ("reward", 3, "non-finite reward"),
        ("observation", 3, "non-finite observation"),
        # At the last step the NaN is only in infos["terminal_observation"]: the env was reset
        ("observation", 10, "non-finite terminal_observation"),
    ],
)
def test_nan_during_collection_names_the_env(where, at, text):
    model = REINFORCE("MlpPolicy", bad_vec_env(where, at), n_episodes=2, seed=0)
    before = [param.detach().clone() for param in model.policy.parameters()]
    with pytest.raises(ValueError, match="env 2") as error:
        model.learn(1_000)
    assert text in str(error.value)
    assert_all_finite(model)
    # It failed in the first rollout: nothing was trained on the bad value
    assert model._n_updates == 0
    for old, new in zip(before, model.policy.parameters(), strict=True):
        assert th.equal(old, new)


class LateBadValueEnv(BadValueEnv):
    """BadValueEnv that behaves for its first ``clean_episodes`` episodes."""

    def __init__(self, at=3, where="reward", clean_episodes=4):
        super().__init__(at=at, where=where)
        self.clean_episodes = clean_episodes
        self.episode = -1

    def reset(self, *, seed=None, options=None):
        self.episode += 1
        return super().reset(seed=seed, options=options)

    def step(self, action):
        obs, reward, terminated, truncated, info = super().step(action)
        if self.episode < self.clean_episodes:
            obs, reward = np.nan_to_num(obs), np.nan_to_num(reward, nan=1.0)
        return obs, reward, terminated, truncated, info


@pytest.mark.parametrize("where", ["reward", "observation"])
def test_nan_after_some_updates_leaves_parameters_finite(where):
    env = DummyVecEnv(
        [lambda: TimeLimit(LateBadValueEnv(at=100), 50)] * 2 + [lambda: TimeLimit(LateBadValueEnv(at=3, where=where), 50)]
    )
    model = REINFORCE("MlpPolicy", env, n_episodes=2, seed=0)
    with pytest.raises(ValueError, match="env 2"):
        model.learn(10_000)
    assert model._n_updates >= 2
    assert_all_finite(model)
    # The model is still usable
    model.predict(np.zeros(2, dtype=np.float32), deterministic=True)


# ---------------------------------------------------------------------------------------------------
# Episodes that never end
# ---------------------------------------------------------------------------------------------------


def test_never_ending_env_warns_then_fails_with_bounded_memory():
    max_memory_bytes = 2**20
    with pytest.warns(UserWarning, match="TimeLimit"):
        model = REINFORCE(
            "MlpPolicy", NeverEndingEnv(), n_episodes=2, seed=0, rollout_buffer_kwargs=dict(max_memory_bytes=max_memory_bytes)
        )
    start = time.perf_counter()
    with pytest.raises(MemoryError, match="TimeLimit"):
        model.learn(10**9)
    assert time.perf_counter() - start < 30
    assert model.rollout_buffer.nbytes <= max_memory_bytes
    assert model._n_updates == 0


@pytest.mark.slow  # runs until the buffer is full
def test_long_rollout_warns_while_it_runs(monkeypatch):
    monkeypatch.setattr("sb3_reinforce.reinforce.LONG_ROLLOUT_STEPS", 50)
    with pytest.warns(UserWarning, match="TimeLimit"):
        model = REINFORCE(
            "MlpPolicy", NeverEndingEnv(), n_episodes=2, seed=0, rollout_buffer_kwargs=dict(max_memory_bytes=2**20)
        )
    with pytest.warns(UserWarning, match=r"run 50 steps per env and only 0 of its 2 episodes have ended \(.* envs \[0\]\)"):
        with pytest.raises(MemoryError):
            model.learn(10**9)


# ---------------------------------------------------------------------------------------------------
# Worker faults
# ---------------------------------------------------------------------------------------------------


class FailingEnv(gym.Env):
    """Raises in the middle of its second episode (at step ``fail_at``, if given)."""

    metadata: dict = {"render_modes": []}  # noqa: RUF012
    observation_space = spaces.Box(-1.0, 1.0, (2,), np.float32)
    action_space = spaces.Discrete(2)

    def __init__(self, fail_at: int | None = 15):
        self.fail_at = fail_at
        self.n_steps = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(2, dtype=np.float32), {}

    def step(self, action):
        self.n_steps += 1
        if self.n_steps == self.fail_at:
            raise RuntimeError("worker failure")
        return np.zeros(2, dtype=np.float32), 1.0, self.n_steps % 10 == 0, False, {}


@pytest.mark.slow  # worker processes
@pytest.mark.parametrize("vec_env_cls", [SubprocVecEnv, SubsetSubprocVecEnv])
def test_worker_fault_ends_learn_with_an_error(vec_env_cls):
    env = vec_env_cls([FailingEnv, lambda: FailingEnv(fail_at=None)])
    model = quiet(lambda: REINFORCE("MlpPolicy", env, n_episodes=2, seed=0))
    # The worker dies with the env's exception; the main process sees its pipe close (SB3 raises EOFError)
    with time_limit(60), pytest.raises(EOFError):
        quiet(lambda: model.learn(10_000))
    with time_limit(30), contextlib.suppress(BrokenPipeError, EOFError):
        env.close()  # the dead worker's pipe may raise: SB3's close() does not expect a dead worker
    for process in env.processes:  # then close() never reached the healthy worker: end it, or it dies noisily at exit
        process.terminate()
        process.join(timeout=10)
