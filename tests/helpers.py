"""Helpers shared by several test files."""

import os
import warnings
from pathlib import Path

import pytest
import torch as th
from stable_baselines3.common.vec_env import DummyVecEnv

from sb3_reinforce import REINFORCE

# ---------------------------------------------------------------------------------------------------
# Building models and collecting one batch
# ---------------------------------------------------------------------------------------------------


def quiet(model_fn):
    """:return: ``model_fn()``, its UserWarnings (no TimeLimit, stepping all envs) silenced"""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return model_fn()


def make_model(env_fns, n_episodes, **kwargs):
    """:return: A REINFORCE (no baseline unless given) on a DummyVecEnv of ``env_fns``, and the callback collect() needs"""
    kwargs.setdefault("baseline", "none")
    with pytest.warns(UserWarning, match="TimeLimit"):
        model = REINFORCE("MlpPolicy", DummyVecEnv(env_fns), n_episodes=n_episodes, seed=0, **kwargs)
    _, callback = model._setup_learn(10_000, None)
    return model, callback


def collect(model, callback):
    """:return: The rollout buffer after one batch has been collected"""
    assert model.collect_rollouts(model.env, callback, model.rollout_buffer)
    return model.rollout_buffer


# ---------------------------------------------------------------------------------------------------
# Parameters before and after training
# ---------------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------------
# Files the tools write
# ---------------------------------------------------------------------------------------------------


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_valid_png(path: Path) -> None:
    import matplotlib.image

    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 10_000
    height, width, _ = matplotlib.image.imread(path).shape
    assert height > 300 and width > 600


# ---------------------------------------------------------------------------------------------------
# Commands in processes of their own
# ---------------------------------------------------------------------------------------------------


REPO = Path(__file__).resolve().parents[1]


def package_env() -> dict[str, str]:
    """:return: This process's environment, with the repository on PYTHONPATH: ``python -m sb3_reinforce...`` in a
    subprocess imports this checkout"""
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
