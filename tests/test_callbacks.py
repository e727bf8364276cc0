"""SB3's callbacks on REINFORCE (EvalCallback, CheckpointCallback, StopTrainingOnMaxEpisodes, custom callbacks, the
progress bar), and the callbacks that count calls firing at the env steps asked for under subset stepping
(sb3_reinforce.callbacks)."""

import io
import re
from types import SimpleNamespace

import gymnasium as gym
import numpy as np
import pytest
import stable_baselines3.common.callbacks as sb3_callbacks
from stable_baselines3.common.callbacks import (
    BaseCallback,
    CallbackList,
    CheckpointCallback,
    ConvertCallback,
    EvalCallback,
    EveryNTimesteps,
    ProgressBarCallback,
    StopTrainingOnMaxEpisodes,
)
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.monitor import Monitor
from tqdm.std import tqdm as plain_tqdm

from sb3_reinforce import REINFORCE, SubsetDummyVecEnv
from sb3_reinforce.callbacks import EnvStepProgressBarCallback, EveryNumEnvsSteps, count_env_steps, counts_calls

# ---------------------------------------------------------------------------------------------------
# SB3's callbacks
# ---------------------------------------------------------------------------------------------------


def test_eval_callback(tmp_path):
    model = REINFORCE("MlpPolicy", make_vec_env("CartPole-v1", n_envs=2, seed=0), n_episodes=2, seed=0)
    eval_env = Monitor(gym.make("CartPole-v1"))
    callback = EvalCallback(
        eval_env, eval_freq=100, n_eval_episodes=2, log_path=str(tmp_path), best_model_save_path=str(tmp_path), warn=False
    )
    model.learn(500, callback=callback)
    evaluations = np.load(tmp_path / "evaluations.npz")
    n_evals = len(evaluations["timesteps"])
    assert n_evals >= 2
    assert evaluations["results"].shape == (n_evals, 2)
    assert evaluations["ep_lengths"].shape == (n_evals, 2)
    assert np.all(evaluations["results"] > 0)
    assert np.all(np.diff(evaluations["timesteps"]) > 0)
    assert (tmp_path / "best_model.zip").exists()
    REINFORCE.load(tmp_path / "best_model.zip")


def test_checkpoint_callback(tmp_path):
    model = REINFORCE("MlpPolicy", make_vec_env("CartPole-v1", n_envs=2, seed=0), n_episodes=3, baseline="mean", seed=0)
    callback = CheckpointCallback(save_freq=100, save_path=str(tmp_path), name_prefix="reinforce")
    model.learn(500, callback=callback)
    checkpoints = sorted(tmp_path.glob("reinforce_*_steps.zip"))
    assert len(checkpoints) >= 2
    # save_freq counts calls (one per VecEnv.step), so checkpoints land every 200 timesteps with 2 envs
    assert (tmp_path / "reinforce_200_steps.zip").exists()
    loaded = REINFORCE.load(tmp_path / "reinforce_200_steps.zip")
    assert loaded.num_timesteps == 200
    assert (loaded.n_episodes, loaded.baseline, loaded.return_type) == (3, "mean", "reward_to_go")
    obs = model.env.reset()
    actions, _ = loaded.predict(obs, deterministic=True)
    assert actions.shape == (2,)


def test_stop_training_on_max_episodes():
    # As SB3's test_callbacks: episodes of a fixed length, so every env ends its episodes at the same steps
    n_envs, max_episodes, episode_length = 4, 5, 20
    env = make_vec_env(lambda: gym.make("Pendulum-v1", max_episode_steps=episode_length), n_envs=n_envs, seed=0)
    model = REINFORCE("MlpPolicy", env, n_episodes=2, seed=0)
    callback = StopTrainingOnMaxEpisodes(max_episodes=max_episodes)
    model.learn(10_000, callback=callback)
    assert model.num_timesteps < 10_000  # it stopped early
    episodes_per_env = callback.n_episodes // n_envs
    assert episodes_per_env == max_episodes
    assert callback.n_episodes == max_episodes * n_envs
    timesteps_per_env = model.num_timesteps // n_envs
    assert timesteps_per_env == max_episodes * episode_length
    # Every rollout took one episode per env (2 of the 4 in the batch); the fifth was cut by the callback
    assert model._n_updates == max_episodes - 1


class RecordLocals(BaseCallback):
    def __init__(self):
        super().__init__()
        self.rollout_starts = 0
        self.rollout_ends = 0
        self.n_dones = 0
        self.terminal_obs_seen = 0

    def _on_rollout_start(self):
        self.rollout_starts += 1

    def _on_step(self):
        assert "dones" in self.locals and "infos" in self.locals
        dones, infos = self.locals["dones"], self.locals["infos"]
        n_envs = self.training_env.num_envs
        assert len(dones) == len(infos) == n_envs
        assert len(self.locals["rewards"]) == n_envs
        assert self.model.env.observation_space.contains(self.locals["new_obs"][0])
        for idx in np.flatnonzero(dones):
            assert "episode" in infos[idx]  # the Monitor's record
            self.terminal_obs_seen += "terminal_observation" in infos[idx]
        self.n_dones += int(np.sum(dones))
        return True

    def _on_rollout_end(self):
        self.rollout_ends += 1


def test_custom_callback_sees_locals():
    model = REINFORCE("MlpPolicy", make_vec_env("CartPole-v1", n_envs=2, seed=0), n_episodes=2, seed=0)
    callback = RecordLocals()
    model.learn(400, callback=callback)
    assert callback.n_calls * 2 == model.num_timesteps
    assert callback.num_timesteps == model.num_timesteps
    assert callback.n_dones >= 2 * model._n_updates
    assert callback.terminal_obs_seen == callback.n_dones
    assert callback.rollout_ends == model._n_updates
    # The budget ends learn() in the middle of a batch unless it happens to end with one
    assert callback.rollout_starts - callback.rollout_ends == (0 if model._batch_progress is None else 1)


def test_progress_bar():
    pytest.importorskip("tqdm")
    pytest.importorskip("rich")
    model = REINFORCE("MlpPolicy", "CartPole-v1", n_episodes=2, seed=0)
    model.learn(200, progress_bar=True)
    assert model.num_timesteps >= 200


# ---------------------------------------------------------------------------------------------------
# Under subset stepping: callbacks that count calls fire at the env steps asked for
# ---------------------------------------------------------------------------------------------------


N_ENVS = 4


class Calls(BaseCallback):
    """Records num_timesteps at each call."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def _on_step(self):
        self.calls.append(self.num_timesteps)
        return True


class Record(Calls):
    """Records num_timesteps and the envs stepped at each call."""

    def __init__(self):
        super().__init__()
        self.stepped = []

    def _on_step(self):
        self.stepped.append(self.locals["stepped"].copy())
        return super()._on_step()


def subset_model(**kwargs):
    env = make_vec_env("CartPole-v1", n_envs=N_ENVS, seed=0, vec_env_cls=SubsetDummyVecEnv)
    return REINFORCE("MlpPolicy", env, n_episodes=4, seed=0, **kwargs)


def assert_every(timesteps, env_steps, num_timesteps):
    """Each call k (1, 2, ...) at the first step past k * env_steps: at most N_ENVS - 1 env steps beyond it"""
    assert len(timesteps) == num_timesteps // env_steps
    for k, t in enumerate(timesteps, start=1):
        assert k * env_steps <= t < k * env_steps + N_ENVS, (k, t)


def test_every_num_envs_steps_calls_once_per_num_envs_env_steps():
    env = SimpleNamespace(num_envs=4)
    model = SimpleNamespace(num_timesteps=7, get_env=lambda: env)
    inner = Calls()
    wrapper = EveryNumEnvsSteps(inner)
    wrapper.init_callback(model)
    wrapper.on_training_start({}, {})  # learn() starts at 7 env steps
    for n_stepped in [4, 2, 1, 3, 4, 1, 0, 4]:
        model.num_timesteps += n_stepped
        assert wrapper.on_step()
    # 4, 6, 7, 10, 14, 15, 15, 19 env steps since the start: multiples of 4 crossed at 4, 10 (8), 14 (12) and 19 (16)
    assert inner.calls == [7 + 4, 7 + 10, 7 + 14, 7 + 19]
    assert inner.n_calls == 4 and wrapper.n_calls == 8


def test_other_callbacks_are_called_at_every_call_and_see_the_stepped_envs():
    model = subset_model()
    record = Record()
    model.learn(2_000, callback=record)
    assert record.calls[-1] == model.num_timesteps
    # One call per collection step: with envs waiting at the end of each batch, more calls than num_timesteps / 4
    assert sum(len(stepped) for stepped in record.stepped) == model.num_timesteps
    assert len(record.calls) > model.num_timesteps / N_ENVS + 50


@pytest.mark.slow  # 2,500 steps and an evaluation every 100
def test_eval_callback_evaluates_every_eval_freq_times_num_envs_env_steps(tmp_path):
    model = subset_model()
    eval_freq = 25
    callback = EvalCallback(
        make_vec_env("CartPole-v1", seed=1),
        n_eval_episodes=1,
        eval_freq=eval_freq,
        log_path=str(tmp_path),
        verbose=0,
        warn=False,
    )
    model.learn(2_500, callback=callback)
    # As with SB3's algorithms, where eval_freq counts calls and each call steps num_envs envs
    assert_every(callback.evaluations_timesteps, eval_freq * N_ENVS, model.num_timesteps)
    assert callback.n_calls == model.num_timesteps // N_ENVS


def test_checkpoint_callback_saves_every_save_freq_times_num_envs_env_steps(tmp_path):
    model = subset_model()
    save_freq = 100
    callback = CheckpointCallback(save_freq=save_freq, save_path=str(tmp_path))
    # Inside a CallbackList, as rl_zoo3 passes its callbacks
    model.learn(2_500, callback=[Record(), callback])
    saved = sorted(int(re.fullmatch(r"rl_model_(\d+)_steps\.zip", path.name)[1]) for path in tmp_path.iterdir())
    assert_every(saved, save_freq * N_ENVS, model.num_timesteps)


@pytest.fixture
def progress_bars(monkeypatch):
    """The progress bars SB3's ProgressBarCallback creates, as plain tqdm bars writing nowhere"""
    bars = []

    def make_bar(total):
        bars.append(plain_tqdm(total=total, file=io.StringIO()))
        return bars[-1]

    monkeypatch.setattr(sb3_callbacks, "tqdm", make_bar)
    return bars


@pytest.mark.parametrize(
    "how", ["progress_bar=True", pytest.param("ProgressBarCallback in the callbacks", marks=pytest.mark.slow)]
)
def test_progress_bar_ends_at_num_timesteps(progress_bars, how):
    model = subset_model()
    if how == "progress_bar=True":
        model.learn(2_000, progress_bar=True)
    else:  # rl_zoo3's ExperimentManager(show_progress=True)
        given = ProgressBarCallback()
        model.learn(2_000, callback=[given])
        # rl_zoo3 keeps its callback and closes the bar itself after learn(): the bar must be that callback's
        assert given.pbar is progress_bars[0]
        given.on_training_end()
    (bar,) = progress_bars
    assert bar.total == 2_000
    assert bar.n == model.num_timesteps
    # A second learn() call continues the count: its bar covers its own steps
    first = model.num_timesteps
    model.learn(1_000, progress_bar=True, reset_num_timesteps=False)
    assert progress_bars[1].total == 1_000
    assert progress_bars[1].n == model.num_timesteps - first


def test_count_env_steps_wraps_the_call_counting_callbacks_only():
    eval_callback = EvalCallback(make_vec_env("CartPole-v1", seed=1), eval_freq=5)
    checkpoint, record = CheckpointCallback(10, "unused"), Record()
    on_new_best, event_child = CheckpointCallback(1, "unused"), CheckpointCallback(1, "unused")
    eval_callback.callback_on_new_best = on_new_best
    every_n = EveryNTimesteps(100, event_child)
    inner_list = CallbackList([checkpoint, record])
    given = [eval_callback, ProgressBarCallback(), inner_list, every_n]

    converted = count_env_steps(given)
    assert isinstance(converted, list)
    assert isinstance(converted[0], EveryNumEnvsSteps) and converted[0].callback is eval_callback
    assert type(converted[1]) is EnvStepProgressBarCallback and converted[1].bar is given[1]
    assert isinstance(converted[2], CallbackList) and converted[2] is not inner_list
    assert isinstance(converted[2].callbacks[0], EveryNumEnvsSteps) and converted[2].callbacks[0].callback is checkpoint
    assert converted[2].callbacks[1] is record
    # Children of an event are called once per event, not per step: they stay as they are
    assert converted[3] is every_n and every_n.callback is event_child
    assert eval_callback.callback_on_new_best is on_new_best
    # The caller's list and CallbackList are not modified
    assert given[0] is eval_callback and inner_list.callbacks == [checkpoint, record]
    # Wrapped once only; with progress_bar, a bar is added
    again = count_env_steps(converted[0], progress_bar=True)
    assert again[0] is converted[0] and type(again[1]) is EnvStepProgressBarCallback
    assert count_env_steps(None) is None and count_env_steps(record) is record
    assert isinstance(count_env_steps(lambda _locals, _globals: True), ConvertCallback)


def test_rl_zoo3_callbacks_count_calls_without_importing_rl_zoo3():
    # Stands for rl_zoo3's: matched by module and class name
    SaveVecNormalizeCallback = type(
        "SaveVecNormalizeCallback", (BaseCallback,), {"__module__": "rl_zoo3.callbacks", "_on_step": lambda self: True}
    )
    assert counts_calls(SaveVecNormalizeCallback())
    assert counts_calls(type("Subclass", (SaveVecNormalizeCallback,), {})())
    assert not counts_calls(Record())
    zoo_callbacks = pytest.importorskip("rl_zoo3.callbacks")
    assert counts_calls(zoo_callbacks.SaveVecNormalizeCallback(save_freq=1, save_path="unused"))
    assert issubclass(zoo_callbacks.TrialEvalCallback, EvalCallback)  # counted as an EvalCallback
