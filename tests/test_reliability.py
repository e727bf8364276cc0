"""Budgets that hold, actions of any shape, interrupts, resumes, worker faults and determinism."""

import contextlib
import signal
import warnings
from contextlib import contextmanager

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from gymnasium.wrappers import TimeLimit
from stable_baselines3.common.callbacks import BaseCallback, CheckpointCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecNormalize

from sb3_reinforce import REINFORCE, SubsetDummyVecEnv, SubsetSubprocVecEnv
from tests.envs import NeverEndingEnv, ScriptedEnv


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


def quiet(model_fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return model_fn()


# ---------------------------------------------------------------------------------------------------
# learn(total_timesteps) is a budget
# ---------------------------------------------------------------------------------------------------


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


def test_budget_holds_when_episodes_never_end():
    env = SubsetDummyVecEnv([NeverEndingEnv] * 2)
    model = quiet(lambda: REINFORCE("MlpPolicy", env, n_episodes=2, seed=0))
    with time_limit(60), pytest.warns(UserWarning, match="without a single update"):
        model.learn(20_000)
    assert model.num_timesteps == 20_000


def test_next_learn_call_continues_the_unfinished_batch():
    # Episodes of 30 steps, 2 envs, N = 2: one batch is 60 env steps (30 vector steps)
    env = SubsetDummyVecEnv([lambda: ScriptedEnv([30], tag=0), lambda: ScriptedEnv([30], tag=1)])
    model = quiet(lambda: REINFORCE("MlpPolicy", env, n_episodes=2, seed=0, baseline="none"))
    for _ in range(2):
        with pytest.warns(UserWarning, match="without a single update"):
            model.learn(20, reset_num_timesteps=False)
    assert model._n_updates == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        model.learn(20, reset_num_timesteps=False)  # 3 x 20 steps: the batch ends in the third call
    assert model.num_timesteps == 60
    assert model._n_updates == 1
    # The batch was the two complete 30-step episodes, not a fresh start after every call
    assert model.logger.name_to_value.get("train/batch_steps", 60) == 60
    assert sorted(env_idx for env_idx, *_ in model.rollout_buffer.episodes) == [0, 1]
    assert [ep.length for ep in model.rollout_buffer.episodes] == [30, 30]
    # With reset_num_timesteps=True the envs are reset: an unfinished batch is dropped
    model.learn(10)
    assert model._batch_progress is not None and model._batch_progress.n_env_steps == 10


def test_callback_stop_keeps_the_batch_for_the_next_call():
    class StopAt(BaseCallback):
        def _on_step(self):
            return self.n_calls < 5

    env = SubsetDummyVecEnv([lambda: ScriptedEnv([8])])
    model = quiet(lambda: REINFORCE("MlpPolicy", env, n_episodes=1, seed=0, baseline="none"))
    with pytest.warns(UserWarning, match="without a single update"):
        model.learn(100, callback=StopAt())
    assert model.num_timesteps == 5
    model.learn(3, reset_num_timesteps=False)
    # 5 + 3 steps: the episode of 8 steps ended in the second call, and was trained on whole
    assert model._n_updates == 1
    assert [ep.length for ep in model.rollout_buffer.episodes] == [8]


# ---------------------------------------------------------------------------------------------------
# Action spaces of any shape SB3 supports
# ---------------------------------------------------------------------------------------------------


class ActionShapeEnv(gym.Env):
    """Rewards the first action component; 5-step episodes."""

    metadata: dict = {"render_modes": []}  # noqa: RUF012
    observation_space = spaces.Box(-1.0, 1.0, (3,), np.float32)

    def __init__(self, action_space: spaces.Space):
        self.action_space = action_space
        self.t = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(3, dtype=np.float32), {}

    def step(self, action):
        assert self.action_space.contains(np.asarray(action, dtype=self.action_space.dtype)), action
        self.t += 1
        return np.zeros(3, dtype=np.float32), float(np.asarray(action).flat[0]), self.t >= 5, False, {}


@pytest.mark.parametrize(
    "action_space",
    [
        spaces.Box(-1, 1, (2, 2), np.float32),
        spaces.Box(-1, 1, (3, 1, 2), np.float32),
        spaces.Box(-1, 1, (4,), np.float32),
        spaces.MultiDiscrete([3, 2]),
        spaces.MultiBinary(3),
        spaces.Discrete(3),
    ],
    ids=str,
)
@pytest.mark.parametrize("vec_env_cls", [DummyVecEnv, SubsetDummyVecEnv])
def test_action_spaces_of_any_shape(action_space, vec_env_cls):
    env = vec_env_cls([lambda: ActionShapeEnv(action_space)] * 2)
    model = quiet(lambda: REINFORCE("MlpPolicy", env, n_episodes=2, seed=0))
    model.learn(60)
    assert model._n_updates > 0
    action, _ = model.predict(np.zeros(3, dtype=np.float32))
    assert np.asarray(action).shape == action_space.shape


def test_multi_dimensional_multibinary_is_refused_as_sb3_does():
    # SB3's policies do not support MultiBinary((2, 2)) (get_action_dim asserts); say so before anything is built
    env = DummyVecEnv([lambda: ActionShapeEnv(spaces.MultiBinary((2, 2)))])
    with pytest.raises(ValueError, match=r"action_space=MultiBinary\(\(2, 2\)\): flatten"):
        REINFORCE("MlpPolicy", env)


# ---------------------------------------------------------------------------------------------------
# Interrupt, save, resume
# ---------------------------------------------------------------------------------------------------


class InterruptAt(BaseCallback):
    def __init__(self, at: int):
        super().__init__()
        self.at = at

    def _on_step(self):
        if self.num_timesteps >= self.at:
            raise KeyboardInterrupt
        return True


def test_keyboard_interrupt_leaves_a_model_that_saves_loads_and_continues(tmp_path):
    env = make_vec_env("CartPole-v1", n_envs=4, seed=0, vec_env_cls=SubsetDummyVecEnv)
    model = REINFORCE("MlpPolicy", env, n_episodes=4, learning_rate=lambda p: 1e-3 * p, seed=0)
    with pytest.raises(KeyboardInterrupt):
        model.learn(20_000, callback=InterruptAt(3_000))
    steps, updates = model.num_timesteps, model._n_updates
    assert updates > 0 and 3_000 <= steps < 3_004
    assert all(th.isfinite(p).all() for p in model.policy.parameters())
    model.save(tmp_path / "model.zip")

    loaded = REINFORCE.load(
        tmp_path / "model.zip", env=make_vec_env("CartPole-v1", n_envs=4, seed=1, vec_env_cls=SubsetDummyVecEnv)
    )
    assert (loaded.num_timesteps, loaded._n_updates) == (steps, updates)
    loaded.learn(2_000, reset_num_timesteps=False)
    assert loaded.num_timesteps >= steps + 2_000
    assert loaded._n_updates > updates
    # The schedule continued from where it was: progress remaining is measured against the new total
    assert loaded._total_timesteps == steps + 2_000
    assert loaded.logger.name_to_value["train/learning_rate"] < 1e-3 * (1 - steps / (steps + 2_000)) + 1e-9
    assert all(th.isfinite(p).all() for p in loaded.policy.parameters())

    # The interrupted model itself also continues in place
    model.learn(1_000, reset_num_timesteps=False)
    assert model._n_updates > updates


def test_checkpoint_resume_uses_saved_vec_normalize_statistics(tmp_path):
    def make_env():
        return VecNormalize(make_vec_env("Pendulum-v1", n_envs=2, seed=0, vec_env_cls=SubsetDummyVecEnv))

    env = make_env()
    model = REINFORCE("MlpPolicy", env, n_episodes=2, seed=0)
    checkpoint = CheckpointCallback(save_freq=500, save_path=str(tmp_path), name_prefix="ck", save_vecnormalize=True)
    model.learn(1_000, callback=checkpoint)
    saved_count = env.obs_rms.count
    model_path, stats_path = tmp_path / "ck_1000_steps.zip", tmp_path / "ck_vecnormalize_1000_steps.pkl"
    assert model_path.exists() and stats_path.exists()

    resumed_env = VecNormalize.load(str(stats_path), make_vec_env("Pendulum-v1", 2, seed=1, vec_env_cls=SubsetDummyVecEnv))
    assert resumed_env.obs_rms.count == pytest.approx(saved_count)
    resumed = REINFORCE.load(model_path, env=resumed_env)
    resumed.learn(400, reset_num_timesteps=False)
    # The statistics went on from the saved ones: reset (2 obs) and 400 steps more, not a fresh start
    assert resumed_env.obs_rms.count == pytest.approx(saved_count + 2 + 400)
    assert resumed.num_timesteps == 1_400


# ---------------------------------------------------------------------------------------------------
# Worker faults and determinism
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


@pytest.mark.parametrize(
    "pair", [(DummyVecEnv, SubprocVecEnv), (SubsetDummyVecEnv, SubsetSubprocVecEnv)], ids=["all", "subset"]
)
def test_same_seed_same_parameters_with_dummy_and_subproc(pair):
    params = []
    for vec_env_cls in pair:
        env = make_vec_env("CartPole-v1", n_envs=3, seed=0, vec_env_cls=vec_env_cls)
        try:
            model = quiet(lambda env=env: REINFORCE("MlpPolicy", env, n_episodes=4, seed=0))
            quiet(lambda model=model: model.learn(3_000))
        finally:
            env.close()
        params.append(th.nn.utils.parameters_to_vector(model.policy.parameters()).detach())
    assert th.equal(params[0], params[1])
