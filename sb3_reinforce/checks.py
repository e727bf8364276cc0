"""
Input checks of :class:`~sb3_reinforce.REINFORCE`: bad input fails with a ValueError that names the parameter and the
value, before any training starts, and a NaN or inf from the env fails before it reaches the parameters.
"""

import pickle
import warnings
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces
from gymnasium.wrappers import TimeLimit
from stable_baselines3.common.vec_env import VecEnv

ACTION_SPACES = (spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary)
OBSERVATION_SPACES = (spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary, spaces.Dict)


def check_number(
    name: str, value: Any, low: float, high: float = np.inf, low_inclusive: bool = True, inf_ok: bool = False
) -> float:
    """
    :return: ``value`` as a float, after checking it is a real number in the range (ValueError naming it if not).
        NaN never passes, and infinity only with ``inf_ok`` (a rate or coefficient of inf makes no sense).
    """
    try:
        number = float(value)
        ok = not isinstance(value, (bool, str)) and (np.isfinite(number) or (inf_ok and number == np.inf))
    except (TypeError, ValueError):
        ok = False
    if ok:
        ok = (low <= number if low_inclusive else low < number) and number <= high
    if not ok:
        bounds = f"{'[' if low_inclusive else '('}{low:g}, {high:g}{']' if np.isfinite(high) or inf_ok else ')'}"
        raise ValueError(f"{name} must be a number in {bounds}, got {value!r}")
    return number


def check_positive_int(name: str, value: Any) -> None:
    """Raise a ValueError naming ``name`` unless ``value`` is an integer >= 1 (a bool is not)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")


def check_spaces(observation_space: spaces.Space, action_space: spaces.Space) -> None:
    """Raise a ValueError naming the space unless REINFORCE's policies support it (SB3's, less Dict actions)."""
    if not isinstance(action_space, ACTION_SPACES):
        raise ValueError(
            f"REINFORCE supports action spaces {[s.__name__ for s in ACTION_SPACES]}, got action_space={action_space}"
        )
    if isinstance(action_space, spaces.MultiBinary) and not isinstance(action_space.n, (int, np.integer)):
        # SB3's policies support one-dimensional MultiBinary only (preprocessing.get_action_dim)
        raise ValueError(
            f"REINFORCE, like SB3, supports one-dimensional MultiBinary action spaces only, got action_space="
            f"{action_space}: flatten it with an ActionWrapper (MultiBinary(n) with n the number of bits)"
        )
    obs_spaces = observation_space.spaces.values() if isinstance(observation_space, spaces.Dict) else [observation_space]
    for space in obs_spaces:
        if not isinstance(space, OBSERVATION_SPACES) or (isinstance(space, spaces.Dict) and space is not observation_space):
            raise ValueError(
                f"REINFORCE supports observation spaces {[s.__name__ for s in OBSERVATION_SPACES]} (Dict not nested), "
                f"got observation_space={observation_space}"
            )


def warn_if_no_time_limit(env: VecEnv) -> None:
    """Warn when some env is not wrapped in a TimeLimit: REINFORCE waits for every batch episode to end."""
    # rl_zoo3 replaces gymnasium's TimeLimit by a subclass at import, after which the original class can no longer
    # be pickled by name for a SubprocVecEnv: check both, and stay silent when we cannot tell (the rollout's
    # memory cap and long-rollout warning still guard against episodes that never end)
    wrapped = np.zeros(env.num_envs, dtype=bool)
    for time_limit in {gymnasium.wrappers.common.TimeLimit, TimeLimit}:
        try:
            wrapped |= np.asarray(env.env_is_wrapped(time_limit), dtype=bool)
        except (AttributeError, NotImplementedError, pickle.PicklingError):
            return
    if not wrapped.all():
        warnings.warn(
            "REINFORCE learns from complete episodes, but the env is not wrapped in a gymnasium TimeLimit. "
            "If an episode never ends, learn() stops with an error once the rollout buffer reaches its memory "
            "cap. Use gymnasium.make(..., max_episode_steps=...) or gymnasium.wrappers.TimeLimit.",
            UserWarning,
            stacklevel=3,
        )


def first_non_finite(obs: Any, batched: bool = True) -> int | None:
    """:return: The index of the first env whose (float) observation holds NaN or inf, or None."""
    for value in obs.values() if isinstance(obs, dict) else [obs]:
        value = np.asarray(value)
        if not np.issubdtype(value.dtype, np.floating) or np.isfinite(value).all():
            continue
        if not batched:
            return 0
        finite = np.isfinite(value.reshape(len(value), -1)).all(axis=1)
        return int(np.flatnonzero(~finite)[0])
    return None


def check_finite_step(new_obs: Any, rewards: np.ndarray, dones: np.ndarray, infos: list[dict[str, Any]], step: int) -> None:
    """Raise on a NaN or inf reward or observation of one VecEnv step, naming the env, before it reaches the parameters."""
    bad = np.flatnonzero(~np.isfinite(rewards))
    if len(bad):
        raise ValueError(f"env {bad[0]} returned a non-finite reward {rewards[bad[0]]!r} (step {step})")
    bad_obs = first_non_finite(new_obs)
    if bad_obs is not None:
        raise ValueError(f"env {bad_obs} returned a non-finite observation (step {step})")
    for idx in np.flatnonzero(dones):
        terminal_obs = infos[idx].get("terminal_observation")
        if terminal_obs is not None and first_non_finite(terminal_obs, batched=False) is not None:
            raise ValueError(f"env {idx} returned a non-finite terminal_observation (step {step})")
