"""
VecEnvs that step only some of their envs, so that REINFORCE never pays for a step it cannot use.

SB3's VecEnvs step every env at every call. REINFORCE's batch is the first ``n_episodes`` episodes to start after
the update, so once the batch is full, an env whose batch episode has ended has nothing useful to do until the
update: stepping it samples an episode that is thrown away (an idle step), and if it is then mid-episode at the
update, the rest of that old-policy episode is thrown away too (a tail). With 8 envs and ``n_episodes=8`` about
half of all steps were lost that way (docs/benchmarks.md).

:class:`SubsetDummyVecEnv` and :class:`SubsetSubprocVecEnv` behave exactly like their SB3 parents, and in
addition :meth:`SubsetVecEnv.step_subset` steps only the envs it names, through the wrappers above (see its
contract). Each wrapper above takes part through a :class:`SubsetAdapter` (:data:`SUBSET_ADAPTERS`), which narrows
its per-env state to the stepped envs' rows while its own ``step_wait`` runs, and puts the rows back after.

    from stable_baselines3.common.env_util import make_vec_env
    env = make_vec_env("CartPole-v1", n_envs=8, vec_env_cls=SubsetDummyVecEnv)

:class:`~sb3_reinforce.REINFORCE` detects such an env (:func:`subset_step_unsupported`) and falls back to stepping
every env, with a warning, on any other VecEnv or with a wrapper that has no adapter.

Stepping part of a VecEnv needs SB3's private state: ``DummyVecEnv``'s buffers and helpers, and
``SubprocVecEnv``'s pipe protocol. That reliance is kept in one section below, written for stable-baselines3
:data:`SB3_VERSION`; the Subset VecEnvs refuse to be built on another minor version (:func:`check_sb3_version`), and
tests/test_vec_env.py fails if one of the pieces listed in :data:`SB3_RELIED_ON` changes upstream.
"""

from copy import deepcopy
from itertools import pairwise
from typing import Any

import numpy as np
import stable_baselines3
from stable_baselines3.common.vec_env import (
    DummyVecEnv,
    SubprocVecEnv,
    VecCheckNan,
    VecEnv,
    VecEnvWrapper,
    VecExtractDictObs,
    VecMonitor,
    VecNormalize,
    VecTransposeImage,
)
from stable_baselines3.common.vec_env.base_vec_env import VecEnvObs, VecEnvStepReturn
from stable_baselines3.common.vec_env.subproc_vec_env import _stack_obs


def take_obs(obs: VecEnvObs, indices: np.ndarray) -> VecEnvObs:
    """:return: The rows ``indices`` of a batch of observations (a dict of arrays for Dict spaces)"""
    if isinstance(obs, dict):
        return {key: value[indices] for key, value in obs.items()}
    assert isinstance(obs, np.ndarray)
    return obs[indices]


def put_obs(obs: VecEnvObs, indices: np.ndarray, rows: VecEnvObs) -> VecEnvObs:
    """:return: A copy of ``obs`` with the rows ``indices`` replaced by ``rows``"""
    if isinstance(obs, dict):
        assert isinstance(rows, dict)
        merged = {key: value.copy() for key, value in obs.items()}
        for key, value in merged.items():
            value[indices] = rows[key]
        return merged
    assert isinstance(obs, np.ndarray) and isinstance(rows, np.ndarray)
    merged_array = obs.copy()
    merged_array[indices] = rows
    return merged_array


# ---------------------------------------------------------------------------------------------------
# The SB3 internals this module relies on, all in this section. Written for stable-baselines3 2.9.x.
# ---------------------------------------------------------------------------------------------------

#: The stable-baselines3 minor version the code of this section was written for and checked against
SB3_VERSION = "2.9"

#: Each piece of SB3 this module copies or whose private state it uses, and what it relies on. tests/test_vec_env.py
#: keeps a hash of each one's source and fails when it changes, so a maintainer re-checks the code that relies on it.
SB3_RELIED_ON: dict[str, str] = {
    "stable_baselines3.common.vec_env.base_vec_env.VecEnv.step": "step() is step_async() then step_wait()",
    "stable_baselines3.common.vec_env.dummy_vec_env.DummyVecEnv.__init__": "the buffers buf_obs/buf_rews/buf_dones/buf_infos",
    "stable_baselines3.common.vec_env.dummy_vec_env.DummyVecEnv.step_async": "actions are stored in self.actions",
    "stable_baselines3.common.vec_env.dummy_vec_env.DummyVecEnv.step_wait": "copied by _dummy_step_wait_subset",
    "stable_baselines3.common.vec_env.dummy_vec_env.DummyVecEnv._save_obs": "called by _dummy_step_wait_subset",
    "stable_baselines3.common.vec_env.dummy_vec_env.DummyVecEnv._obs_from_buf": "called by _dummy_step_wait_subset",
    "stable_baselines3.common.vec_env.subproc_vec_env._worker": "the ('step', action) command and its 5-tuple reply",
    "stable_baselines3.common.vec_env.subproc_vec_env.SubprocVecEnv.step_async": "copied by _subproc_step_async_subset",
    "stable_baselines3.common.vec_env.subproc_vec_env.SubprocVecEnv.step_wait": "copied by _subproc_step_wait_subset",
    "stable_baselines3.common.vec_env.subproc_vec_env.SubprocVecEnv.close": "waits for a reply from every remote if waiting",
    "stable_baselines3.common.vec_env.subproc_vec_env._stack_obs": "called by _subproc_step_wait_subset",
    # The wrappers of SUBSET_ADAPTERS: their per-env state is what their adapter narrows
    "stable_baselines3.common.vec_env.vec_normalize.VecNormalize.step_wait": "per-env state: returns, old_obs, old_reward",
    "stable_baselines3.common.vec_env.vec_normalize.VecNormalize._update_reward": "per-env state: returns",
    "stable_baselines3.common.vec_env.vec_normalize.VecNormalize.reset": "per-env state: returns, old_obs",
    "stable_baselines3.common.vec_env.vec_monitor.VecMonitor.step_wait": "per-env state: episode_returns, episode_lengths",
    "stable_baselines3.common.vec_env.vec_monitor.VecMonitor.reset": "per-env state: episode_returns, episode_lengths",
    "stable_baselines3.common.vec_env.vec_check_nan.VecCheckNan.step_async": "per-env state: _actions",
    "stable_baselines3.common.vec_env.vec_check_nan.VecCheckNan.step_wait": "per-env state: _observations",
    "stable_baselines3.common.vec_env.vec_transpose.VecTransposeImage.step_wait": "no per-env state",
    "stable_baselines3.common.vec_env.vec_extract_dict_obs.VecExtractDictObs.step_wait": "no per-env state",
}


def check_sb3_version(version: str | None = None) -> None:
    """
    Raise a RuntimeError unless stable-baselines3 is of the minor version :data:`SB3_VERSION`, which the Subset
    VecEnvs' use of SB3's private state was written for.

    :param version: The version to check (default: the installed ``stable_baselines3.__version__``)
    """
    version = stable_baselines3.__version__ if version is None else version
    if ".".join(version.split(".")[:2]) != SB3_VERSION:
        raise RuntimeError(
            f"sb3_reinforce's SubsetDummyVecEnv and SubsetSubprocVecEnv use private state of stable-baselines3 "
            f"{SB3_VERSION}.x, but stable-baselines3 {version} is installed. Install stable-baselines3=={SB3_VERSION}.*, "
            "or build the env with DummyVecEnv or SubprocVecEnv (REINFORCE then steps every env at every step)."
        )


def _dummy_step_wait_subset(venv: DummyVecEnv, indices: np.ndarray) -> VecEnvStepReturn:
    """
    ``DummyVecEnv.step_wait`` for the envs ``indices`` only, with ``venv.actions`` holding one action per env of
    ``indices``. Largely a copy of SB3's; lines marked ``REINFORCE`` are changed.
    """
    for k, env_idx in enumerate(indices):  # REINFORCE: the subset's envs, the k-th action for each
        obs, venv.buf_rews[env_idx], terminated, truncated, venv.buf_infos[env_idx] = venv.envs[env_idx].step(  # type: ignore[assignment]
            venv.actions[k]
        )
        # convert to SB3 VecEnv api
        venv.buf_dones[env_idx] = terminated or truncated
        # See https://github.com/openai/gym/issues/3102
        # Gym 0.26 introduces a breaking change
        venv.buf_infos[env_idx]["TimeLimit.truncated"] = truncated and not terminated

        if venv.buf_dones[env_idx]:
            # save final observation where user can get it, then reset
            venv.buf_infos[env_idx]["terminal_observation"] = obs
            obs, venv.reset_infos[env_idx] = venv.envs[env_idx].reset()
        venv._save_obs(env_idx, obs)
    return (  # REINFORCE: the subset's rows only
        take_obs(venv._obs_from_buf(), indices),
        venv.buf_rews[indices].copy(),
        venv.buf_dones[indices].copy(),
        deepcopy([venv.buf_infos[i] for i in indices]),
    )


def _subproc_step_async_subset(venv: SubprocVecEnv, indices: np.ndarray, actions: np.ndarray) -> None:
    """``SubprocVecEnv.step_async`` for the workers ``indices`` only, one action each."""
    for env_idx, action in zip(indices, actions, strict=True):
        venv.remotes[env_idx].send(("step", action))
    venv.waiting = True


def _subproc_step_wait_subset(venv: SubprocVecEnv, indices: np.ndarray) -> VecEnvStepReturn:
    """``SubprocVecEnv.step_wait`` for the workers ``indices`` only: their replies, stacked in that order."""
    try:
        results = [venv.remotes[env_idx].recv() for env_idx in indices]
    finally:
        # close() would wait for a reply from every worker, but the idle ones were sent nothing
        venv.waiting = False
    obs, rews, dones, infos, reset_infos = zip(*results, strict=True)
    venv.reset_infos = list(venv.reset_infos)
    for env_idx, reset_info in zip(indices, reset_infos, strict=True):
        venv.reset_infos[env_idx] = reset_info
    return _stack_obs(obs, venv.observation_space), np.stack(rews), np.stack(dones), infos  # type: ignore[return-value]


# ---------------------------------------------------------------------------------------------------
# The wrappers above a Subset VecEnv
# ---------------------------------------------------------------------------------------------------


def _has_rows(value: Any, n_rows: int) -> bool:
    """:return: Whether ``value`` is an array (or a dict of arrays) with one row per env"""
    if isinstance(value, dict):
        return len(value) > 0 and all(_has_rows(item, n_rows) for item in value.values())
    return isinstance(value, np.ndarray) and value.ndim >= 1 and len(value) == n_rows


def _put_rows(full: Any, indices: np.ndarray, rows: Any, n_rows: int) -> Any:
    """
    :return: A copy of ``full`` with its rows ``indices`` replaced by ``rows``; not in place, as ``full`` may be an
        array the wrapper also returned (VecCheckNan's last observations). If ``full`` has no row per env yet (the
        wrapper has not set it since its creation), the other rows are zeros.
    """
    if isinstance(rows, dict):
        return {
            key: _put_rows(full.get(key) if isinstance(full, dict) else None, indices, value, n_rows)
            for key, value in rows.items()
        }
    if not _has_rows(full, n_rows):
        full = np.zeros((n_rows, *rows.shape[1:]), dtype=rows.dtype)
    merged = full.copy()
    merged[indices] = rows
    return merged


class SubsetAdapter:
    """
    How a :class:`~stable_baselines3.common.vec_env.VecEnvWrapper` takes part in a subset step
    (:meth:`SubsetVecEnv.step_subset`).

    The wrapper's own ``step_async``/``step_wait`` run once on the stepped envs' rows. For that, its per-env state
    (the attributes named here: arrays, or dicts of arrays, with one row per env) is narrowed to those rows for the
    call, and afterwards the rows it wrote are put back into the full arrays. So every row of that state is always
    the latest value of its env: an env that was not stepped keeps its row. Before the wrapper first sets such an
    attribute, the rows of the envs that were not stepped are zeros (e.g. ``VecNormalize.old_reward`` before the
    first step).

    A wrapper whose state is not per-env arrays needs a subclass that overrides :meth:`narrow` and :meth:`restore`.

    :param per_env_attributes: The wrapper's attributes holding one row per env
    """

    def __init__(self, *per_env_attributes: str):
        self.per_env_attributes = per_env_attributes

    def narrow(self, wrapper: VecEnvWrapper, indices: np.ndarray) -> list[Any]:
        """
        Narrow ``wrapper``'s per-env state to the rows ``indices``, for a step of those envs.

        :param wrapper: The wrapper, whose ``num_envs`` is the full number of envs
        :param indices: The stepped envs
        :return: The full state, for :meth:`restore`
        """
        saved = []
        for name in self.per_env_attributes:
            full: Any = getattr(wrapper, name, None)
            saved.append(full)
            if _has_rows(full, wrapper.num_envs):
                setattr(wrapper, name, take_obs(full, indices))
        return saved

    def restore(self, wrapper: VecEnvWrapper, indices: np.ndarray, saved: list[Any]) -> None:
        """
        Put the rows ``indices`` of ``wrapper``'s per-env state, as the step left them, back into the full state.

        :param wrapper: The wrapper
        :param indices: The stepped envs
        :param saved: What :meth:`narrow` returned
        """
        for name, full in zip(self.per_env_attributes, saved, strict=True):
            rows = getattr(wrapper, name, None)
            if rows is not full and _has_rows(rows, len(indices)):
                # The stepped envs' rows, as narrowed or as the wrapper rebound them (VecNormalize's returns)
                setattr(wrapper, name, _put_rows(full, indices, rows, wrapper.num_envs))
            elif full is not None:  # not set by this step
                setattr(wrapper, name, full)


#: The wrappers a subset step can go through, by exact type (a subclass may keep per-env state of its own), and how.
#: VecFrameStack is not here: its stacks live in a StackedObservations, which would need an adapter of its own, and
#: frame-stacked REINFORCE is not a use case we test. Add an entry to support another wrapper.
SUBSET_ADAPTERS: dict[type[VecEnvWrapper], SubsetAdapter] = {
    # returns: the discounted return behind reward normalization; old_obs, old_reward: get_original_obs()/_reward()
    VecNormalize: SubsetAdapter("returns", "old_obs", "old_reward"),
    VecMonitor: SubsetAdapter("episode_returns", "episode_lengths"),
    VecCheckNan: SubsetAdapter("_actions", "_observations"),  # the last values, quoted in its error messages
    VecTransposeImage: SubsetAdapter(),
    VecExtractDictObs: SubsetAdapter(),
}


def vec_env_chain(env: VecEnv) -> list[VecEnv]:
    """:return: ``env``, the VecEnv it wraps, and so on down to the base VecEnv"""
    chain = [env]
    while isinstance(chain[-1], VecEnvWrapper):
        chain.append(chain[-1].venv)
    return chain


def subset_step_unsupported(env: VecEnv) -> str | None:
    """
    :return: Why :meth:`SubsetVecEnv.step_subset` cannot step ``env`` (the outermost VecEnv), or None if it can
    """
    *wrappers, base = vec_env_chain(env)
    if not isinstance(base, SubsetVecEnv):
        return (
            f"the base VecEnv is a {type(base).__name__}, not a SubsetDummyVecEnv or SubsetSubprocVecEnv "
            "(make_vec_env(..., vec_env_cls=SubsetDummyVecEnv))"
        )
    for wrapper in wrappers:
        if type(wrapper) not in SUBSET_ADAPTERS:
            return f"the VecEnv wrapper {type(wrapper).__name__} is not known to work on a subset of envs"
    return None


# ---------------------------------------------------------------------------------------------------
# The Subset VecEnvs
# ---------------------------------------------------------------------------------------------------


class SubsetVecEnv(VecEnv):
    """
    What :class:`SubsetDummyVecEnv` and :class:`SubsetSubprocVecEnv` add to their SB3 parents: :meth:`step_subset`,
    and :attr:`n_calls`, a count of their resets and steps. Outside a subset step they behave as their parents.
    """

    # Indices of the envs the current step applies to; None for all (the parent's behaviour)
    _subset: np.ndarray | None = None
    #: Resets and steps (whole or subset) so far, whoever made them: an algorithm that remembers the count after its
    #: own last call can tell that someone else (``evaluate_policy`` on the training env) moved the envs since.
    n_calls: int = 0

    def __init__(self, *args: Any, **kwargs: Any):
        check_sb3_version()
        super().__init__(*args, **kwargs)

    def reset(self) -> VecEnvObs:
        self.n_calls += 1
        return super().reset()  # type: ignore[safe-super]  # the DummyVecEnv's or SubprocVecEnv's, next in the MRO

    def step_subset(self, indices: np.ndarray | list[int], actions: np.ndarray, *, env: VecEnv) -> VecEnvStepReturn:
        """
        Step only the envs ``indices``, through every wrapper of ``env``.

        The contract:

        - **The stepped envs** take one step each, with the k-th action for the k-th env of ``indices``. One whose
          episode ends is reset at once, as SB3's VecEnvs do: its info holds ``terminal_observation`` (and
          ``TimeLimit.truncated``), its row of the returned observations is the new episode's first, and its
          ``reset_infos`` entry is the reset's info.
        - **The other envs** are not touched: no step, no reset, no call to the env. Each stays where it is, and
          the next step that includes it continues from there. Their ``reset_infos`` entries are unchanged.
        - **The wrappers of** ``env`` see one ordinary step whose batch is the stepped envs' rows, in the order of
          ``indices``: their running statistics (``VecNormalize``'s ``obs_rms``, ``ret_rms``) are updated with those
          rows only, and their per-env state (``VecNormalize.returns``, ``old_obs``, ``old_reward``; ``VecMonitor``'s
          episode sums) is narrowed to those rows while they step and restored after (:class:`SubsetAdapter`), so
          that after the call every row of it is its env's latest value: for example ``get_original_obs()`` returns
          a row for every env, the current observation of each. A ``Monitor`` inside the envs sees real steps only.
        - **Returned**: the observations, rewards, dones and infos of the stepped envs only (``len(indices)`` rows,
          in the order of ``indices``), as the outermost VecEnv ``env`` returns them (normalized by a
          ``VecNormalize``, for example).
        - ``reset()``, ``step()`` and every other method act on all envs, as in SB3.

        Stepping all envs this way is the same as ``env.step(actions)``.

        :param indices: The envs to step: at least one, distinct, in increasing order
        :param actions: One action per env of ``indices``, in that order
        :param env: The outermost VecEnv: this VecEnv itself, or a wrapper chain around it (``env.unwrapped`` is
            this VecEnv), each wrapper of which has an adapter in :data:`SUBSET_ADAPTERS`. It is required because a
            wrapper forwards unknown attributes to the VecEnv it wraps: ``wrapper.step_subset(...)`` without ``env``
            would step this VecEnv behind the wrappers' back.
        :return: Observations, rewards, dones and infos of the envs ``indices``
        """
        indices = np.asarray(indices)
        listed = indices.tolist() if indices.ndim == 1 else []  # a few ints: Python checks them faster than numpy
        if (
            not listed
            or indices.dtype.kind not in "iu"
            or listed[0] < 0
            or listed[-1] >= self.num_envs
            or any(a >= b for a, b in pairwise(listed))
        ):
            raise ValueError(
                f"indices must be distinct env indices in [0, {self.num_envs}) in increasing order, at least one, "
                f"got {indices!r}"
            )
        if len(actions) != len(indices):
            raise ValueError(f"actions must hold one action per env of indices ({len(indices)}), got {len(actions)}")
        *wrappers, base = vec_env_chain(env)
        if base is not self:
            raise ValueError(f"env must be this VecEnv or a wrapper chain around it, got {env!r} around {base!r}")
        adapters = [SUBSET_ADAPTERS.get(type(wrapper)) for wrapper in wrappers]  # type: ignore[arg-type]
        if None in adapters:
            raise ValueError(f"step_subset cannot step env: {subset_step_unsupported(env)}")
        narrowed: list[tuple[SubsetAdapter, VecEnvWrapper, list[Any]]] = []
        try:
            for adapter, wrapper in zip(adapters, wrappers, strict=True):
                assert adapter is not None and isinstance(wrapper, VecEnvWrapper)
                narrowed.append((adapter, wrapper, adapter.narrow(wrapper, indices)))
            self._subset = indices
            return env.step(actions)
        finally:
            self._subset = None
            for adapter, wrapper, saved in reversed(narrowed):
                adapter.restore(wrapper, indices, saved)


class SubsetDummyVecEnv(SubsetVecEnv, DummyVecEnv):
    """
    A :class:`~stable_baselines3.common.vec_env.DummyVecEnv` that can also step only some of its envs
    (:meth:`SubsetVecEnv.step_subset`). Stepped as a whole, it is a DummyVecEnv.

    :param env_fns: Functions that return environments to vectorize
    :raises RuntimeError: If the installed stable-baselines3 is not of the minor version :data:`SB3_VERSION`
    """

    def step_wait(self) -> VecEnvStepReturn:
        self.n_calls += 1
        if self._subset is None:
            return super().step_wait()
        return _dummy_step_wait_subset(self, self._subset)


class SubsetSubprocVecEnv(SubsetVecEnv, SubprocVecEnv):
    """
    A :class:`~stable_baselines3.common.vec_env.SubprocVecEnv` that can also step only some of its envs
    (:meth:`SubsetVecEnv.step_subset`): only the stepped envs' worker processes receive a step command. Stepped as
    a whole, it is a SubprocVecEnv.

    :param env_fns: Environments to run in subprocesses
    :param start_method: method used to start the subprocesses (see SubprocVecEnv)
    :raises RuntimeError: If the installed stable-baselines3 is not of the minor version :data:`SB3_VERSION`
    """

    def step_async(self, actions: np.ndarray) -> None:
        if self._subset is None:
            return super().step_async(actions)
        _subproc_step_async_subset(self, self._subset, actions)

    def step_wait(self) -> VecEnvStepReturn:
        self.n_calls += 1
        if self._subset is None:
            return super().step_wait()
        return _subproc_step_wait_subset(self, self._subset)


# ---------------------------------------------------------------------------------------------------
# How REINFORCE steps its envs: two small strategies that collect_rollouts calls
# ---------------------------------------------------------------------------------------------------


class StepAllEnvs:
    """Step every env at every step, as SB3 does: works with any VecEnv; envs with nothing to do step anyway."""

    def select(self, wanted: np.ndarray) -> np.ndarray:
        """:return: The envs to step: all of them"""
        return np.arange(len(wanted))

    def step(self, env: VecEnv, indices: np.ndarray, actions: np.ndarray, last_obs: VecEnvObs) -> VecEnvStepReturn:
        """:return: ``env.step(actions)``"""
        return env.step(actions)


class StepNeededEnvs(StepAllEnvs):
    """Step only the envs a batch still needs, through :meth:`SubsetVecEnv.step_subset`; the others wait, unstepped."""

    def select(self, wanted: np.ndarray) -> np.ndarray:
        """:return: The envs that ``wanted`` marks"""
        return np.flatnonzero(wanted)

    def step(self, env: VecEnv, indices: np.ndarray, actions: np.ndarray, last_obs: VecEnvObs) -> VecEnvStepReturn:
        """
        :return: The step as if every env had been stepped, for the callers that index by env: an env that was not
            stepped keeps its observation, with reward 0, ``done=False`` and an empty info
        """
        if len(indices) == env.num_envs:
            return env.step(actions)
        base = env.unwrapped
        assert isinstance(base, SubsetVecEnv)
        obs, step_rewards, step_dones, step_infos = base.step_subset(indices, actions[indices], env=env)
        rewards = np.zeros(env.num_envs, dtype=np.float32)
        rewards[indices] = step_rewards
        dones = np.zeros(env.num_envs, dtype=bool)
        dones[indices] = step_dones
        infos: list[dict] = [{} for _ in range(env.num_envs)]
        for env_idx, info in zip(indices, step_infos, strict=True):
            infos[env_idx] = info
        return put_obs(last_obs, indices, obs), rewards, dones, infos
