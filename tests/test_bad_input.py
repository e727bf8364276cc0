"""Bad parameters fail at construction, before the env is built, with a message naming the parameter and the value;
an env without a time limit is warned about."""

import warnings

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from gymnasium.wrappers import TimeLimit
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.vec_env import DummyVecEnv

from sb3_reinforce import REINFORCE, SubsetSubprocVecEnv
from tests.envs import NeverEndingEnv

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
    # A function's repr holds its address, which differs between pytest-xdist's workers: name it instead
    ids=lambda kwargs: repr({key: getattr(value, "__name__", value) for key, value in kwargs.items()}),
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
# Episodes that may never end
# ---------------------------------------------------------------------------------------------------


def test_never_ending_vec_env_warns():
    with pytest.warns(UserWarning, match="TimeLimit"):
        REINFORCE("MlpPolicy", DummyVecEnv([NeverEndingEnv] * 2), n_episodes=2)


def test_time_limit_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        REINFORCE("MlpPolicy", gym.make("CartPole-v1"), n_episodes=2)
        REINFORCE("MlpPolicy", TimeLimit(NeverEndingEnv(), max_episode_steps=10), n_episodes=2)


@pytest.mark.slow  # worker processes
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
