"""The checks Stable-Baselines3 runs on its own algorithms (tests/test_run.py, test_spaces.py, test_cnn.py,
test_dict_env.py, test_vec_envs.py, test_callbacks.py, test_tensorboard.py, test_save_load.py, test_predict.py,
test_deterministic.py), run on REINFORCE."""

import csv
import os
import warnings

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from gymnasium.wrappers import TimeLimit
from stable_baselines3.common.callbacks import (
    BaseCallback,
    CheckpointCallback,
    EvalCallback,
    StopTrainingOnMaxEpisodes,
)
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.envs import (
    FakeImageEnv,
    IdentityEnvMultiBinary,
    IdentityEnvMultiDiscrete,
    SimpleMultiObsEnv,
)
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.logger import configure
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecNormalize

from sb3_reinforce import REINFORCE
from sb3_reinforce.buffers import BASELINES, RETURN_TYPES
from sb3_reinforce.vec_env import SubsetSubprocVecEnv
from tests.envs import ScriptedEnv

# ---------------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------------

ENVS = {
    # name: (env factory, policy, extra REINFORCE kwargs)
    "Discrete": (lambda: gym.make("CartPole-v1"), "MlpPolicy", {}),
    "Box": (lambda: gym.make("Pendulum-v1", max_episode_steps=50), "MlpPolicy", {}),
    "Box-gSDE": (lambda: gym.make("Pendulum-v1", max_episode_steps=50), "MlpPolicy", dict(use_sde=True)),
    "Box-gSDE-freq4": (
        lambda: gym.make("Pendulum-v1", max_episode_steps=50),
        "MlpPolicy",
        dict(use_sde=True, sde_sample_freq=4),
    ),
    "MultiDiscrete": (lambda: TimeLimit(IdentityEnvMultiDiscrete(dim=3), max_episode_steps=20), "MlpPolicy", {}),
    "MultiBinary": (lambda: TimeLimit(IdentityEnvMultiBinary(dim=3), max_episode_steps=20), "MlpPolicy", {}),
}

SMALL_CNN = dict(features_extractor_kwargs=dict(features_dim=32), net_arch=[16])


def image_env(discrete=True):
    # 36x36 is the smallest input NatureCNN accepts: 36 -(8, stride 4)-> 8 -(4, stride 2)-> 3 -(3, stride 1)-> 1
    return TimeLimit(FakeImageEnv(screen_height=36, screen_width=36, discrete=discrete), max_episode_steps=10)


def dict_env():
    return TimeLimit(SimpleMultiObsEnv(random_start=True), max_episode_steps=20)


def snapshot(model):
    return {name: tensor.detach().clone() for name, tensor in model.policy.state_dict().items()}


def is_critic(name):
    # With the default share_features_extractor=True, "vf_features_extractor" is the shared (actor) extractor
    return name.startswith(("value_net.", "mlp_extractor.value_net."))


def assert_finite(params):
    for name, tensor in params.items():
        assert th.isfinite(tensor).all(), f"{name} is not finite"


def assert_trained(before, after, baseline):
    """The actor moved; the critic moved if and only if it is the baseline."""
    assert_finite(after)
    changed = {name for name in before if not th.equal(before[name], after[name])}
    assert any(not is_critic(name) for name in changed), "no actor parameter changed"
    critic_changed = any(is_critic(name) for name in changed)
    assert critic_changed == (baseline == "value"), f"critic changed={critic_changed} with baseline={baseline}"


def read_progress(folder):
    with open(os.path.join(folder, "progress.csv")) as file:
        return list(csv.DictReader(file))


# ---------------------------------------------------------------------------------------------------
# Action spaces, baselines, return types
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("return_type", RETURN_TYPES)
@pytest.mark.parametrize("baseline", BASELINES)
@pytest.mark.parametrize("space", list(ENVS))
def test_action_spaces(space, baseline, return_type):
    make_env, policy, kwargs = ENVS[space]
    model = REINFORCE(policy, make_env(), n_episodes=2, baseline=baseline, return_type=return_type, seed=0, **kwargs)
    before = snapshot(model)
    model.learn(300)
    assert model.num_timesteps >= 300
    assert model._n_updates >= 1
    assert_trained(before, snapshot(model), baseline)
    # What it learned, it can act with
    obs = model.env.reset()
    actions, _ = model.predict(obs, deterministic=False)
    assert model.action_space.contains(actions[0])


@pytest.mark.parametrize("discrete", [True, False])
def test_cnn_policy(discrete):
    model = REINFORCE("CnnPolicy", image_env(discrete), n_episodes=2, baseline="value", policy_kwargs=SMALL_CNN, seed=0)
    assert model.policy.features_extractor.features_dim == 32
    before = snapshot(model)
    # FakeImageEnv pays 0 reward: with the value baseline the advantage is -V(s), which moves the actor too
    model.learn(200)
    assert model._n_updates >= 1
    assert_trained(before, snapshot(model), "value")


@pytest.mark.parametrize("baseline", ["none", "value"])
def test_multi_input_policy(baseline):
    model = REINFORCE("MultiInputPolicy", dict_env(), n_episodes=2, baseline=baseline, seed=0)
    before = snapshot(model)
    model.learn(200)
    assert model._n_updates >= 1
    assert_trained(before, snapshot(model), baseline)


# ---------------------------------------------------------------------------------------------------
# Vectorized envs, wrappers and logging
# ---------------------------------------------------------------------------------------------------


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


@pytest.mark.parametrize("baseline", ["none", "value"])
@pytest.mark.parametrize("kind", ["DummyVecEnv", "SubprocVecEnv", "VecNormalize", "Monitor"])
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


# ---------------------------------------------------------------------------------------------------
# Callbacks
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


class StopAtCall(BaseCallback):
    def __init__(self, n_calls):
        super().__init__()
        self.stop_at = n_calls

    def _on_step(self):
        return self.n_calls < self.stop_at


class RecordBatches(BaseCallback):
    def __init__(self):
        super().__init__()
        self.batches = []

    def _on_step(self):
        return True

    def _on_rollout_end(self):
        self.batches.append(self.model.rollout_buffer.get())


@pytest.mark.parametrize("stop_at", [1, 3, 4, 5])
def test_learning_after_a_callback_stop_uses_complete_episodes(stop_at):
    # A Stop* callback ends learn() mid-rollout; learn(reset_num_timesteps=False) must then still train on exact,
    # complete episodes. ScriptedEnv: every episode lasts 3 steps, observation [tag, k, t], reward 10k + t.
    env = DummyVecEnv([lambda: TimeLimit(ScriptedEnv([3]), max_episode_steps=100)])
    model = REINFORCE("MlpPolicy", env, n_episodes=1, baseline="none", seed=0)
    model.learn(100, callback=StopAtCall(stop_at))
    assert model.num_timesteps == stop_at
    recorder = RecordBatches()
    model.learn(9, callback=recorder, reset_num_timesteps=False)
    assert recorder.batches
    for batch in recorder.batches:
        obs = batch.observations.numpy()
        episode = int(obs[0, 1])
        assert batch.lengths.tolist() == [3], f"episode {episode} stored as {obs.tolist()}"
        np.testing.assert_array_equal(obs[:, 1:], [[episode, 0], [episode, 1], [episode, 2]])
        np.testing.assert_array_equal(batch.rewards[0], 10 * episode + np.arange(3))


def test_progress_bar():
    pytest.importorskip("tqdm")
    pytest.importorskip("rich")
    model = REINFORCE("MlpPolicy", "CartPole-v1", n_episodes=2, seed=0)
    model.learn(200, progress_bar=True)
    assert model.num_timesteps >= 200


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


# ---------------------------------------------------------------------------------------------------
# Save, load, predict
# ---------------------------------------------------------------------------------------------------

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


@pytest.mark.parametrize("case", list(SAVE_LOAD_CASES))
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


# ---------------------------------------------------------------------------------------------------
# Determinism
# ---------------------------------------------------------------------------------------------------


def train_cartpole(seed):
    model = REINFORCE("MlpPolicy", make_vec_env("CartPole-v1", n_envs=2), n_episodes=2, seed=seed)
    model.learn(2000)
    return model, snapshot(model)


def test_same_seed_same_parameters():
    model_a, params_a = train_cartpole(seed=1)
    model_b, params_b = train_cartpole(seed=1)
    assert model_a.num_timesteps == model_b.num_timesteps
    assert model_a._n_updates == model_b._n_updates
    for name in params_a:
        assert th.equal(params_a[name], params_b[name]), name
    _, params_c = train_cartpole(seed=2)
    assert any(not th.equal(params_a[name], params_c[name]) for name in params_a)


def test_subproc_env_after_rl_zoo3_replaced_time_limit():
    # rl_zoo3 swaps gymnasium's TimeLimit for a subclass at import; the TimeLimit check must still pickle
    pytest.importorskip("rl_zoo3")
    import rl_zoo3.gym_patches  # noqa: F401

    env = SubsetSubprocVecEnv([lambda: gym.make("CartPole-v1")] * 2)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)
            REINFORCE("MlpPolicy", env, n_episodes=2, seed=0).learn(200)
    finally:
        env.close()
