"""Bad input fails early and loudly: at construction for bad parameters and spaces, at the step for bad values."""

import time
import warnings

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from gymnasium.wrappers import TimeLimit
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.vec_env import DummyVecEnv

from sb3_reinforce import REINFORCE
from tests.envs import BadValueEnv, NeverEndingEnv

# ---------------------------------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------------------------------

BAD_PARAMETERS = [
    # (kwargs, texts the message must contain: the parameter name and the bad value)
    (dict(n_episodes=0), ["n_episodes", "0"]),
    (dict(n_episodes=-3), ["n_episodes", "-3"]),
    (dict(n_episodes=2.5), ["n_episodes", "2.5"]),
    (dict(gamma=1.5), ["gamma", "1.5"]),
    (dict(gamma=-0.1), ["gamma", "-0.1"]),
    (dict(return_type="bogus"), ["return_type", "bogus"]),
    (dict(baseline="median"), ["baseline", "median"]),
    (dict(baseline="leave_one_out", n_episodes=1), ["leave_one_out", "n_episodes=1"]),
    (dict(baseline="mean", n_episodes=1), ["mean", "n_episodes=1"]),
    (dict(n_episodes=1), ["leave_one_out", "n_episodes=1"]),  # the default baseline needs two episodes
    (dict(ent_coef=-0.1), ["ent_coef", "-0.1"]),
    (dict(critic_learning_rate=-1), ["critic_learning_rate", "-1"]),
    (dict(n_critic_updates=0), ["n_critic_updates", "0"]),
    (dict(critic_batch_size=2.5), ["critic_batch_size", "2.5"]),
    (dict(discount_steps=True, return_type="total"), ["discount_steps", "total"]),
    (dict(max_grad_norm=0), ["max_grad_norm", "0"]),
    (dict(learning_rate=-1e-3), ["learning_rate", "-0.001"]),
    # Infinity is no learning rate or coefficient (it used to pass wherever the range was open above), and neither
    # is NaN or a string that float() would read
    (dict(learning_rate=float("inf")), ["learning_rate", "[0, inf)", "got inf"]),
    (dict(learning_rate=np.float32("inf")), ["learning_rate", "got np.float32(inf)"]),
    (dict(learning_rate="inf"), ["learning_rate", "got 'inf'"]),
    (dict(critic_learning_rate=float("inf")), ["critic_learning_rate", "got inf"]),
    (dict(ent_coef=float("inf")), ["ent_coef", "got inf"]),
    (dict(ent_coef=float("nan")), ["ent_coef", "got nan"]),
    (dict(gamma=float("inf")), ["gamma", "[0, 1]", "got inf"]),
    (dict(max_grad_norm=float("nan")), ["max_grad_norm", "got nan"]),
    (dict(max_grad_norm=-float("inf")), ["max_grad_norm", "(0, inf]", "got -inf"]),
    (dict(rollout_buffer_class=RolloutBuffer), ["rollout_buffer_class", "RolloutBuffer"]),
]
IDS = [",".join(f"{key}={value!r}" for key, value in kwargs.items()) for kwargs, _ in BAD_PARAMETERS]


@pytest.mark.parametrize("kwargs, texts", BAD_PARAMETERS, ids=IDS)
def test_bad_parameter_raises_at_construction(kwargs, texts):
    env = gym.make("CartPole-v1")
    with pytest.raises(ValueError) as error:
        REINFORCE("MlpPolicy", env, **kwargs)
    message = str(error.value)
    for text in texts:
        assert text in message, f"{text!r} not in {message!r}"


@pytest.mark.parametrize("kwargs, texts", BAD_PARAMETERS, ids=IDS)
def test_bad_parameter_raises_before_the_env_is_built(kwargs, texts):
    # An env id that does not exist: if the env were built first, gymnasium's error would come out instead
    with pytest.raises(ValueError, match=texts[0]):
        REINFORCE("MlpPolicy", "NoSuchEnv-v0", **kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(gamma=0.0),
        dict(gamma=1.0),
        dict(gamma=np.float64(0.99)),
        # A numpy float32 (e.g. from a numpy-based hyperparameter sampler) is a valid discount factor
        dict(gamma=np.float32(0.99)),
        dict(n_episodes=np.int64(2)),
        dict(n_episodes=1, baseline="none"),
        dict(n_episodes=1, baseline="value"),
        dict(n_episodes=2, baseline="leave_one_out"),
        dict(ent_coef=0.0, critic_learning_rate=0.0, learning_rate=0.0),
        dict(learning_rate=lambda progress: 1e-3 * progress),
        dict(max_grad_norm=float("inf")),  # no clipping
    ],
    ids=repr,
)
def test_good_parameters_at_the_edges_are_accepted(kwargs):
    REINFORCE("MlpPolicy", gym.make("CartPole-v1"), **kwargs)


def test_infinite_max_grad_norm_turns_clipping_off():
    # Each model seeds the global RNGs when it is built, so each learns before the next is built
    models = [
        REINFORCE("MlpPolicy", gym.make("CartPole-v1"), n_episodes=2, max_grad_norm=max_grad_norm, seed=0).learn(200)
        for max_grad_norm in (float("inf"), 1e30)
    ]
    assert models[0]._n_updates > 0
    for inf_param, huge_param in zip(models[0].policy.parameters(), models[1].policy.parameters(), strict=True):
        assert th.equal(inf_param, huge_param)


# ---------------------------------------------------------------------------------------------------
# Spaces
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


def test_never_ending_vec_env_warns():
    with pytest.warns(UserWarning, match="TimeLimit"):
        REINFORCE("MlpPolicy", DummyVecEnv([NeverEndingEnv] * 2), n_episodes=2)


def test_time_limit_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        REINFORCE("MlpPolicy", gym.make("CartPole-v1"), n_episodes=2)
        REINFORCE("MlpPolicy", TimeLimit(NeverEndingEnv(), max_episode_steps=10), n_episodes=2)


def test_long_rollout_warns_while_it_runs(monkeypatch):
    monkeypatch.setattr("sb3_reinforce.reinforce.LONG_ROLLOUT_STEPS", 50)
    with pytest.warns(UserWarning, match="TimeLimit"):
        model = REINFORCE(
            "MlpPolicy", NeverEndingEnv(), n_episodes=2, seed=0, rollout_buffer_kwargs=dict(max_memory_bytes=2**20)
        )
    with pytest.warns(UserWarning, match=r"run 50 steps per env and only 0 of its 2 episodes have ended \(.* envs \[0\]\)"):
        with pytest.raises(MemoryError):
            model.learn(10**9)
