"""Save and load: parameters, settings and optimizer state survive, a model continues where it stopped (also after an
interrupt, and with VecNormalize statistics), and files saved by older versions still load."""

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from stable_baselines3.common.callbacks import BaseCallback, CheckpointCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.save_util import load_from_zip_file
from stable_baselines3.common.vec_env import VecNormalize

from sb3_reinforce import REINFORCE, SubsetDummyVecEnv
from tests.envs import dict_env
from tests.helpers import assert_trained, snapshot

DATA = Path(__file__).parent / "data"


SAVE_LOAD_CASES = {
    # name: (vec env factory taking n_envs, policy, REINFORCE kwargs)
    "Discrete-none": (lambda n: make_vec_env("CartPole-v1", n_envs=n), "MlpPolicy", dict(baseline="none")),
    "Discrete-value": (lambda n: make_vec_env("CartPole-v1", n_envs=n), "MlpPolicy", dict(baseline="value")),
    "Box-gSDE-leave_one_out": (
        lambda n: make_vec_env("Pendulum-v1", n_envs=n, env_kwargs=dict(max_episode_steps=50)),
        "MlpPolicy",
        dict(baseline="leave_one_out", return_type="total", use_sde=True),
    ),
    "Dict-value": (lambda n: make_vec_env(dict_env, n_envs=n), "MultiInputPolicy", dict(baseline="value")),
}


# Dict observations are the slowest case
@pytest.mark.parametrize(
    "case", [pytest.param(case, marks=pytest.mark.slow) if case == "Dict-value" else case for case in SAVE_LOAD_CASES]
)
def test_save_load(tmp_path, case):
    make_env, policy, kwargs = SAVE_LOAD_CASES[case]
    model = REINFORCE(policy, make_env(2), n_episodes=2, gamma=0.95, ent_coef=0.01, seed=0, **kwargs)
    model.learn(200)
    obs = model.env.reset()
    actions, _ = model.predict(obs, deterministic=True)
    params = snapshot(model)
    model.save(tmp_path / "model.zip")
    timesteps = model.num_timesteps
    del model

    loaded = REINFORCE.load(tmp_path / "model.zip")
    loaded_params = snapshot(loaded)
    assert params.keys() == loaded_params.keys()
    for name in params:
        assert th.equal(params[name], loaded_params[name]), name
    new_actions, _ = loaded.predict(obs, deterministic=True)
    np.testing.assert_array_equal(actions, new_actions)
    assert loaded.num_timesteps == timesteps
    assert (loaded.n_episodes, loaded.gamma, loaded.ent_coef) == (2, 0.95, 0.01)
    for key, value in kwargs.items():
        assert getattr(loaded, key) == value

    # set_env, then keep learning where it stopped
    loaded.set_env(make_env(2))
    before = snapshot(loaded)
    loaded.learn(200, reset_num_timesteps=False)
    assert loaded.num_timesteps >= timesteps + 200
    assert_trained(before, snapshot(loaded), loaded.baseline)

    # Loading with an env, here with a different number of envs, also continues
    reloaded = REINFORCE.load(tmp_path / "model.zip", env=make_env(3))
    assert reloaded.n_envs == 3
    reloaded.learn(100, reset_num_timesteps=False)
    assert reloaded.num_timesteps >= timesteps + 100


def test_bootstrap_truncated_is_saved_and_loaded(tmp_path):
    model = REINFORCE("MlpPolicy", gym.make("CartPole-v1"), baseline="value", bootstrap_truncated=False)
    model.save(tmp_path / "model.zip")
    assert REINFORCE.load(tmp_path / "model.zip").bootstrap_truncated is False


def test_unused_parent_settings_are_not_exposed_or_saved(tmp_path):
    # OnPolicyAlgorithm's n_steps, gae_lambda and vf_coef describe a fixed-length rollout, GAE and a joint loss: a tool
    # reading REINFORCE's used to get n_steps=1, gae_lambda=1.0 and vf_coef=0.0, none of which describes it
    model = REINFORCE("MlpPolicy", gym.make("CartPole-v1"), baseline="value", n_episodes=2, seed=0)
    assert model.n_steps is None
    assert not hasattr(model, "gae_lambda") and not hasattr(model, "vf_coef")
    model.learn(100)  # OnPolicyAlgorithm.learn() passes n_steps to collect_rollouts(), which ignores it
    model.save(tmp_path / "model.zip")
    data, _, _ = load_from_zip_file(tmp_path / "model.zip")
    assert data["n_steps"] is None and "gae_lambda" not in data and "vf_coef" not in data


def test_model_saved_before_bootstrap_truncated_loads_with_the_bootstrap_on():
    # Saved at commit e73e075 (value baseline, net_arch=[4]), when every truncated return was bootstrapped and the
    # parent's n_steps=1, gae_lambda and vf_coef were saved with the model
    path = DATA / "reinforce_e73e075.zip"
    data, _, _ = load_from_zip_file(path)
    assert "bootstrap_truncated" not in data and data["n_steps"] == 1 and "gae_lambda" in data
    model = REINFORCE.load(path, env=gym.make("CartPole-v1"))
    assert model.bootstrap_truncated is True
    assert model.n_steps is None and not hasattr(model, "gae_lambda") and not hasattr(model, "vf_coef")
    assert model.critic_optimizer is not None
    model.learn(100, reset_num_timesteps=False)


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


@pytest.mark.slow  # 6k env steps in three learn() calls
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


@pytest.mark.slow  # 1,400 steps of Pendulum and two checkpoints
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
