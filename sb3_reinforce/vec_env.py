"""
VecEnvs that step only some of their envs, so that REINFORCE never pays for a step it cannot use.

SB3's VecEnvs step every env at every call. REINFORCE's batch is the first ``n_episodes`` episodes to start after
the update, so once the batch is full, an env whose batch episode has ended has nothing useful to do until the
update: stepping it samples an episode that is thrown away (an idle step), and if it is then mid-episode at the
update, the rest of that old-policy episode is thrown away too (a tail). With 8 envs and ``n_episodes=8`` about
half of all steps were lost that way (docs/benchmarks.md).

:class:`SubsetDummyVecEnv` and :class:`SubsetSubprocVecEnv` behave exactly like their SB3 parents, and in
addition :func:`step_subset` steps only the envs it names. An env that is not stepped stays where it is, at the
start of its next episode, until a batch needs it. The wrappers above see only real steps: each supported wrapper
(:data:`PER_ENV_STATE`) runs its own ``step_wait`` on the stepped envs' rows, with its per-env arrays narrowed to
those rows for the call. Monitor, below the VecEnv, only ever sees real steps.

    from stable_baselines3.common.env_util import make_vec_env
    env = make_vec_env("CartPole-v1", n_envs=8, vec_env_cls=SubsetDummyVecEnv)

:class:`~sb3_reinforce.REINFORCE` detects such an env (:func:`subset_step_unsupported`) and falls back to stepping
every env, with a warning, on any other VecEnv or with a wrapper it does not know.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from copy import deepcopy

import numpy as np
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

# Wrappers that work on any subset of rows, and the attributes holding their per-env state (leading axis n_envs).
# Matched by exact type: a subclass may keep per-env state of its own. VecFrameStack is not here: its stacks would
# need the same narrowing inside StackedObservations, and frame-stacked REINFORCE is not a use case we test.
PER_ENV_STATE: dict[type[VecEnvWrapper], tuple[str, ...]] = {
    VecNormalize: ("returns",),  # the discounted return behind reward normalization
    VecMonitor: ("episode_returns", "episode_lengths"),
    VecTransposeImage: (),
    VecCheckNan: (),
    VecExtractDictObs: (),
}


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


class _SubsetMixin:
    # Indices of the envs the next step_async/step_wait applies to; None for all (the parent's behaviour)
    _subset: np.ndarray | None = None


class SubsetDummyVecEnv(_SubsetMixin, DummyVecEnv):
    """
    A :class:`~stable_baselines3.common.vec_env.DummyVecEnv` that :func:`step_subset` can step partly.
    Stepped as a whole, it is a DummyVecEnv.
    """

    def step_wait(self) -> VecEnvStepReturn:
        if self._subset is None:
            return super().step_wait()
        # Largely DummyVecEnv.step_wait; lines marked REINFORCE are changed
        for k, env_idx in enumerate(self._subset):  # REINFORCE: the subset's envs, the k-th action for each
            obs, self.buf_rews[env_idx], terminated, truncated, self.buf_infos[env_idx] = self.envs[env_idx].step(  # type: ignore[assignment]
                self.actions[k]
            )
            self.buf_dones[env_idx] = terminated or truncated
            self.buf_infos[env_idx]["TimeLimit.truncated"] = truncated and not terminated
            if self.buf_dones[env_idx]:
                self.buf_infos[env_idx]["terminal_observation"] = obs
                obs, self.reset_infos[env_idx] = self.envs[env_idx].reset()
            self._save_obs(env_idx, obs)
        subset = self._subset  # REINFORCE: return the subset's rows only
        return (
            take_obs(self._obs_from_buf(), subset),
            self.buf_rews[subset].copy(),
            self.buf_dones[subset].copy(),
            deepcopy([self.buf_infos[i] for i in subset]),
        )


class SubsetSubprocVecEnv(_SubsetMixin, SubprocVecEnv):
    """
    A :class:`~stable_baselines3.common.vec_env.SubprocVecEnv` that :func:`step_subset` can step partly: only the
    subset's worker processes receive a step command. Stepped as a whole, it is a SubprocVecEnv.
    """

    def step_async(self, actions: np.ndarray) -> None:
        if self._subset is None:
            return super().step_async(actions)
        for env_idx, action in zip(self._subset, actions, strict=True):
            self.remotes[env_idx].send(("step", action))
        self.waiting = True

    def step_wait(self) -> VecEnvStepReturn:
        if self._subset is None:
            return super().step_wait()
        try:
            results = [self.remotes[env_idx].recv() for env_idx in self._subset]
        finally:
            # close() would wait for a reply from every worker, but the idle ones were sent nothing
            self.waiting = False
        obs, rews, dones, infos, reset_infos = zip(*results, strict=True)
        self.reset_infos = list(self.reset_infos)
        for env_idx, reset_info in zip(self._subset, reset_infos, strict=True):
            self.reset_infos[env_idx] = reset_info
        return _stack_obs(obs, self.observation_space), np.stack(rews), np.stack(dones), infos  # type: ignore[return-value]


def vec_env_chain(env: VecEnv) -> list[VecEnv]:
    """:return: ``env``, the VecEnv it wraps, and so on down to the base VecEnv"""
    chain = [env]
    while isinstance(chain[-1], VecEnvWrapper):
        chain.append(chain[-1].venv)
    return chain


def subset_step_unsupported(env: VecEnv) -> str | None:
    """
    :return: Why :func:`step_subset` cannot step ``env``, or None if it can
    """
    *wrappers, base = vec_env_chain(env)
    if not isinstance(base, _SubsetMixin):
        return (
            f"the base VecEnv is a {type(base).__name__}, not a SubsetDummyVecEnv or SubsetSubprocVecEnv "
            "(make_vec_env(..., vec_env_cls=SubsetDummyVecEnv))"
        )
    for wrapper in wrappers:
        if type(wrapper) not in PER_ENV_STATE:
            return f"the VecEnv wrapper {type(wrapper).__name__} is not known to work on a subset of envs"
    return None


@contextmanager
def _only(env: VecEnv, indices: np.ndarray) -> Iterator[None]:
    """Point every layer of ``env`` at the rows ``indices``: wrappers' per-env state narrowed, the base told."""
    *wrappers, base = vec_env_chain(env)
    assert isinstance(base, _SubsetMixin), subset_step_unsupported(env)
    saved = []
    for wrapper in wrappers:
        for name in PER_ENV_STATE[type(wrapper)]:  # type: ignore[index]
            full = getattr(wrapper, name)
            saved.append((wrapper, name, full))
            setattr(wrapper, name, full[indices])
    base._subset = indices
    try:
        yield
    finally:
        base._subset = None
        for wrapper, name, full in saved:
            full[indices] = getattr(wrapper, name)  # the wrapper may have rebound the narrowed array
            setattr(wrapper, name, full)


def step_subset(env: VecEnv, indices: np.ndarray, actions: np.ndarray) -> VecEnvStepReturn:
    """
    Step only the envs ``indices`` of ``env``, through all its wrappers.

    :param env: A VecEnv whose base is a :class:`SubsetDummyVecEnv` or :class:`SubsetSubprocVecEnv`, wrapped only
        in wrappers of :data:`PER_ENV_STATE`
    :param indices: The envs to step, distinct and in increasing order
    :param actions: One action per env of ``indices``, in that order
    :return: Observations, rewards, dones and infos of those envs only (``len(indices)`` rows)
    """
    indices = np.asarray(indices, dtype=np.int64)
    with _only(env, indices):
        return env.step(actions)


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
    """Step only the envs a batch still needs, through :func:`step_subset`; the others wait, unstepped."""

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
        obs, step_rewards, step_dones, step_infos = step_subset(env, indices, actions[indices])
        rewards = np.zeros(env.num_envs, dtype=np.float32)
        rewards[indices] = step_rewards
        dones = np.zeros(env.num_envs, dtype=bool)
        dones[indices] = step_dones
        infos: list[dict] = [{} for _ in range(env.num_envs)]
        for env_idx, info in zip(indices, step_infos, strict=True):
            infos[env_idx] = info
        return put_obs(last_obs, indices, obs), rewards, dones, infos
