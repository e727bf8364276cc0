"""What REINFORCE logs, under every kind of VecEnv, to csv and to tensorboard."""

import csv
import os

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.logger import configure
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import SubprocVecEnv, VecNormalize

from sb3_reinforce import REINFORCE


def read_progress(folder):
    with open(os.path.join(folder, "progress.csv")) as file:
        return list(csv.DictReader(file))


def vec_env(kind):
    if kind == "DummyVecEnv":
        return make_vec_env("CartPole-v1", n_envs=2, seed=0)
    if kind == "SubprocVecEnv":
        return make_vec_env(
            "CartPole-v1", n_envs=2, seed=0, vec_env_cls=SubprocVecEnv, vec_env_kwargs=dict(start_method="fork")
        )
    if kind == "VecNormalize":
        return VecNormalize(make_vec_env("CartPole-v1", n_envs=2, seed=0))
    if kind == "Monitor":
        return Monitor(gym.make("CartPole-v1"))
    raise ValueError(kind)


EXPECTED_KEYS = [
    "rollout/ep_rew_mean",
    "rollout/ep_len_mean",
    "rollout/discarded_frac",
    "train/policy_loss",
    "train/entropy_loss",
    "train/grad_norm",
    "train/learning_rate",
]


@pytest.mark.parametrize("baseline", [pytest.param("none", marks=pytest.mark.slow), "value"])
@pytest.mark.parametrize(
    "kind",
    [
        "DummyVecEnv",
        pytest.param("SubprocVecEnv", marks=pytest.mark.slow),
        "VecNormalize",
        pytest.param("Monitor", marks=pytest.mark.slow),
    ],
)
def test_vec_envs_and_logging(tmp_path, kind, baseline):
    env = vec_env(kind)
    try:
        model = REINFORCE("MlpPolicy", env, n_episodes=2, baseline=baseline, seed=0)
        assert model.n_envs == (1 if kind == "Monitor" else 2)
        model.set_logger(configure(str(tmp_path), ["csv"]))
        model.learn(600, log_interval=1)
        rows = read_progress(tmp_path)
    finally:
        env.close()
    assert len(rows) >= 2
    keys = set(rows[0])
    for key in EXPECTED_KEYS:
        assert key in keys, f"{key} was not logged"
    assert ("train/value_loss" in keys) == (baseline == "value")
    # train/ values are recorded after a dump, so the last row holds every key
    last = rows[-1]
    for key in EXPECTED_KEYS + (["train/value_loss"] if baseline == "value" else []):
        assert last[key] != "", f"{key} is empty in the last row"
        assert np.isfinite(float(last[key])), f"{key}={last[key]}"
    # The Monitor sits under VecNormalize, so episode returns are raw CartPole returns (1 per step)
    assert float(last["rollout/ep_rew_mean"]) == pytest.approx(float(last["rollout/ep_len_mean"]))
    discarded = float(last["rollout/discarded_frac"])
    assert 0.0 <= discarded < 1.0
    if kind == "Monitor":
        assert discarded == 0.0  # a single env never discards
    assert float(last["train/learning_rate"]) == pytest.approx(model.learning_rate)
    assert int(float(last["time/total_timesteps"])) <= model.num_timesteps


def test_tensorboard(tmp_path):
    pytest.importorskip("tensorboard")
    model = REINFORCE("MlpPolicy", "CartPole-v1", n_episodes=2, tensorboard_log=str(tmp_path), seed=0)
    model.learn(200, log_interval=1)
    run_dir = tmp_path / "REINFORCE_1"
    assert run_dir.is_dir()
    assert any(name.startswith("events.out.tfevents") for name in os.listdir(run_dir))
    # Continuing writes into the same run; a fresh learn() starts a new one
    model.learn(200, reset_num_timesteps=False)
    assert not (tmp_path / "REINFORCE_2").exists()
    model.learn(200)
    assert (tmp_path / "REINFORCE_2").is_dir()
