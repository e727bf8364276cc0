"""The observation and action spaces REINFORCE supports, with every baseline and return type, and those it refuses."""

import re
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.wrappers import TimeLimit
from stable_baselines3.common.envs import FakeImageEnv, IdentityEnv, IdentityEnvMultiBinary, IdentityEnvMultiDiscrete
from stable_baselines3.common.vec_env import DummyVecEnv

from sb3_reinforce import REINFORCE, SubsetDummyVecEnv
from sb3_reinforce.estimators import BASELINES, RETURN_TYPES
from tests.envs import dict_env
from tests.helpers import assert_trained, quiet, snapshot


def slow(value):
    """:return: ``value`` as a parameter of the slow suite"""
    return pytest.param(value, marks=pytest.mark.slow)


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


# ---------------------------------------------------------------------------------------------------
# Action spaces, baselines, return types
# ---------------------------------------------------------------------------------------------------


# The fast suite trains each space with the critic (baseline="value") on the reward-to-go; the other 36
# combinations are slow
@pytest.mark.parametrize("return_type", [rt if rt == "reward_to_go" else slow(rt) for rt in RETURN_TYPES])
@pytest.mark.parametrize("baseline", [b if b == "value" else slow(b) for b in BASELINES])
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


@pytest.mark.slow  # NatureCNN: seconds per run
@pytest.mark.parametrize("discrete", [True, False])
def test_cnn_policy(discrete):
    model = REINFORCE("CnnPolicy", image_env(discrete), n_episodes=2, baseline="value", policy_kwargs=SMALL_CNN, seed=0)
    assert model.policy.features_extractor.features_dim == 32
    before = snapshot(model)
    # FakeImageEnv pays 0 reward: with the value baseline the advantage is -V(s), which moves the actor too
    model.learn(200)
    assert model._n_updates >= 1
    assert_trained(before, snapshot(model), "value")


@pytest.mark.parametrize("baseline", [slow("none"), "value"])
def test_multi_input_policy(baseline):
    model = REINFORCE("MultiInputPolicy", dict_env(), n_episodes=2, baseline=baseline, seed=0)
    before = snapshot(model)
    model.learn(200)
    assert model._n_updates >= 1
    assert_trained(before, snapshot(model), baseline)


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
@pytest.mark.parametrize("vec_env_cls", [slow(DummyVecEnv), SubsetDummyVecEnv])
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
# Spaces REINFORCE refuses
# ---------------------------------------------------------------------------------------------------


class TupleActionEnv(gym.Env):
    observation_space = spaces.Box(-1.0, 1.0, (2,), np.float32)
    action_space = spaces.Tuple((spaces.Discrete(2), spaces.Discrete(3)))

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(2, dtype=np.float32), {}

    def step(self, action):
        return np.zeros(2, dtype=np.float32), 0.0, True, False, {}


class TupleObservationEnv(gym.Env):
    observation_space = spaces.Tuple((spaces.Box(-1.0, 1.0, (2,), np.float32), spaces.Discrete(3)))
    action_space = spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return (np.zeros(2, dtype=np.float32), 0), {}

    def step(self, action):
        return (np.zeros(2, dtype=np.float32), 0), 0.0, True, False, {}


@pytest.mark.parametrize(
    "env_class, text",
    [(TupleActionEnv, "action_space=Tuple(Discrete(2), Discrete(3))"), (TupleObservationEnv, "observation_space=Tuple(")],
)
def test_unsupported_space_raises_at_construction(env_class, text):
    # SB3's own checks let a flat Tuple observation space through; REINFORCE's check names it
    with pytest.raises(ValueError) as error:
        REINFORCE("MlpPolicy", TimeLimit(env_class(), max_episode_steps=5))
    assert text in str(error.value)
    assert "REINFORCE supports" in str(error.value)


# ---------------------------------------------------------------------------------------------------
# The spaces table of docs/algorithm.md ("Can I use?"), cell by cell
# ---------------------------------------------------------------------------------------------------

ALGORITHM = Path(__file__).resolve().parents[1] / "docs" / "algorithm.md"


def spaces_table() -> dict[tuple[str, str], bool]:
    """:return: docs/algorithm.md's spaces table: (space, "Action" or "Observation") -> whether it says supported"""
    section = ALGORITHM.read_text().split("\n## Can I use?\n", 1)[1].split("\n## ", 1)[0]
    lines = [line.strip().strip("|") for line in section.splitlines() if line.startswith("|")]
    rows = [[cell.strip() for cell in line.split("|")] for line in lines]
    assert rows[0] == ["Space", "Action", "Observation"], rows[0]
    table = {}
    for space, *cells in rows[2:]:  # rows[1] is the |---| line
        for column, cell in zip(rows[0][1:], cells, strict=True):
            assert cell in ("✔️", "❌"), f"{space}/{column}: {cell!r}"
            table[space, column] = cell == "✔️"
    return table


# An env for each cell: (env factory, policy). Actions ride on Box observations, observations on Discrete actions
# (Dict observations on SimpleMultiObsEnv's); the test checks each env has the space its cell names.
CELL_ENVS = {
    ("Discrete", "Action"): (ENVS["Discrete"][0], "MlpPolicy"),  # CartPole-v1
    ("Box", "Action"): (ENVS["Box"][0], "MlpPolicy"),  # Pendulum-v1
    ("MultiDiscrete", "Action"): (ENVS["MultiDiscrete"][0], "MlpPolicy"),
    ("MultiBinary", "Action"): (ENVS["MultiBinary"][0], "MlpPolicy"),
    ("Dict", "Action"): (lambda: ActionShapeEnv(spaces.Dict({"a": spaces.Discrete(2), "b": spaces.Discrete(3)})), "MlpPolicy"),
    ("Discrete", "Observation"): (lambda: TimeLimit(IdentityEnv(dim=3), max_episode_steps=20), "MlpPolicy"),
    ("Box", "Observation"): (ENVS["Discrete"][0], "MlpPolicy"),  # CartPole-v1
    ("MultiDiscrete", "Observation"): (ENVS["MultiDiscrete"][0], "MlpPolicy"),
    ("MultiBinary", "Observation"): (ENVS["MultiBinary"][0], "MlpPolicy"),
    ("Dict", "Observation"): (dict_env, "MultiInputPolicy"),
}
SPACES_TABLE = spaces_table()


def test_spaces_table_has_every_cell():
    # Every space the issue names, for actions and for observations, and an env here for each cell
    assert set(SPACES_TABLE) == set(CELL_ENVS)


@pytest.mark.parametrize("space, column", list(SPACES_TABLE))
def test_spaces_table_cell_is_true(space, column):
    make_env, policy = CELL_ENVS[space, column]
    env = make_env()
    assert type(env.action_space if column == "Action" else env.observation_space).__name__ == space
    if SPACES_TABLE[space, column]:
        model = REINFORCE(policy, env, n_episodes=2, seed=0)
        before = snapshot(model)
        model.learn(300)
        assert model._n_updates >= 1
        assert_trained(before, snapshot(model), model.baseline)
    else:
        with pytest.raises(ValueError, match=f"REINFORCE supports {column.lower()} spaces") as error:
            REINFORCE(policy, env)
        # The error the page quotes is the one raised, up to the space it elides
        quoted = re.search(r"`ValueError: (.*?)" + space + r"\(\.\.\.\)`", ALGORITHM.read_text())
        assert quoted is not None and str(error.value).startswith(quoted.group(1) + space + "(")
