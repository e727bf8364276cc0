"""
Episode storage for REINFORCE: :class:`EpisodeRolloutBuffer` stores what the envs produced and cuts it into the
batch's complete episodes; :class:`BatchProgress` decides which episodes those are.

The returns, baselines and advantages computed from a batch are pure functions in :mod:`sb3_reinforce.estimators`.
"""

from typing import Any, NamedTuple

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.preprocessing import get_action_dim, get_obs_shape
from stable_baselines3.common.type_aliases import TensorDict
from stable_baselines3.common.utils import get_device

from sb3_reinforce.estimators import pad_episodes


class StoredEpisode(NamedTuple):
    """A complete batch episode: rows ``start..end`` (inclusive) of env ``env_idx`` in the step storage."""

    env_idx: int
    start: int
    end: int
    truncated: bool
    terminal_obs: Any  # its last observation, kept for truncated episodes only

    @property
    def length(self) -> int:
        return self.end - self.start + 1


class BatchProgress:
    """
    The batch rule, as state: which episodes belong to the batch being collected.

    The batch is the first ``n_episodes`` episodes to *start* after the update, ties broken by env index, each run
    to its end. Whether an episode enters is decided when it starts, before any of its steps are seen, so the rule
    cannot favour short or high-return episodes: every episode in the batch is an exact sample of the policy.

    :param n_envs: Number of envs
    :param n_episodes: Episodes in a batch
    """

    def __init__(self, n_envs: int, n_episodes: int):
        self.n_episodes = n_episodes
        # Row where each env's batch episode started, -1 if the episode it runs (if any) is not in the batch
        self.start_row = np.full(n_envs, -1, dtype=np.int64)
        self.n_started = 0
        self.n_finished = 0
        self.n_env_steps = 0  # env steps taken for this batch, used or not

    @property
    def running(self) -> np.ndarray:
        """:return: Boolean mask of the envs running a batch episode"""
        return self.start_row >= 0

    @property
    def complete(self) -> bool:
        """:return: Whether all ``n_episodes`` episodes have ended"""
        return self.n_finished == self.n_episodes

    def start_episodes(self, episode_starts: np.ndarray, row: int) -> None:
        """
        Envs at an episode boundary start batch episodes, lowest index first, while places are left.

        :param episode_starts: Boolean mask of the envs whose next step is the first of an episode
        :param row: Row of the storage that the next step is written to
        """
        free = np.flatnonzero(np.asarray(episode_starts, dtype=bool) & ~self.running)
        for env_idx in free[: self.n_episodes - self.n_started]:
            self.start_row[env_idx] = row
            self.n_started += 1

    def finish_episode(self, env_idx: int) -> int | None:
        """
        Env ``env_idx`` ended an episode.

        :return: The row where it started if it was a batch episode, else None
        """
        start = int(self.start_row[env_idx])
        if start < 0:
            return None
        self.start_row[env_idx] = -1
        self.n_finished += 1
        return start


class EpisodeBatch(NamedTuple):
    """
    The complete episodes of one update, flattened step by step (episode 0 first).

    :param observations: Observations (a dict of tensors for Dict spaces)
    :param actions: Actions as the env received them before clipping
    :param rewards: Rewards, zero-padded, shape ``(n_episodes, max_len)``
    :param lengths: Length of each episode
    :param truncated: Whether each episode ended by truncation (e.g. a time limit) rather than termination
    :param terminal_observations: The last observation of each truncated episode, for value bootstrapping
    """

    observations: th.Tensor | TensorDict
    actions: th.Tensor
    rewards: np.ndarray
    lengths: np.ndarray
    truncated: np.ndarray
    terminal_observations: th.Tensor | TensorDict | None


class EpisodeRolloutBuffer:
    """
    Storage for the steps of one REINFORCE rollout, cut into complete episodes.

    Every env step of the rollout is written at row ``pos`` (one row per ``VecEnv.step``), including steps that
    will be discarded, because one vectorized write per step is cheaper than masking. Capacity starts small and
    doubles when full, so memory follows the episodes actually collected; it is kept across updates, so storage
    does not grow once the longest rollout has been seen. Which stored episodes form the batch is decided by the
    algorithm's ``collect_rollouts`` and recorded with :meth:`add_episode`.

    :param observation_space: Observation space
    :param action_space: Action space
    :param device: PyTorch device for the tensors of :meth:`get`
    :param n_envs: Number of parallel environments
    :param initial_capacity: Rows allocated at first
    :param max_memory_bytes: Storage may not grow past this; a rollout that needs more raises an error that
        points to a time limit (an episode that never ends would otherwise exhaust memory)
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        device: th.device | str = "auto",
        n_envs: int = 1,
        initial_capacity: int = 256,
        max_memory_bytes: int = 4 * 2**30,
    ):
        if initial_capacity < 1:
            raise ValueError(f"initial_capacity must be >= 1, got {initial_capacity}")
        if max_memory_bytes < 1:
            raise ValueError(f"max_memory_bytes must be >= 1, got {max_memory_bytes}")
        self.observation_space = observation_space
        self.action_space = action_space
        self.device = get_device(device)
        self.n_envs = n_envs
        self.max_memory_bytes = max_memory_bytes
        self.action_dim = get_action_dim(action_space)
        self.obs_shape: Any = get_obs_shape(observation_space)
        self.is_dict = isinstance(observation_space, spaces.Dict)
        self._allocate(initial_capacity)
        self.reset()

    def _new_obs_storage(self, capacity: int) -> np.ndarray | dict[str, np.ndarray]:
        if self.is_dict:
            assert isinstance(self.observation_space, spaces.Dict)
            return {
                key: np.zeros((capacity, self.n_envs, *shape), dtype=self.observation_space[key].dtype)
                for key, shape in self.obs_shape.items()
            }
        return np.zeros((capacity, self.n_envs, *self.obs_shape), dtype=self.observation_space.dtype)

    def _allocate(self, capacity: int) -> None:
        self.capacity = capacity
        self.observations = self._new_obs_storage(capacity)
        self.actions = np.zeros((capacity, self.n_envs, self.action_dim), dtype=np.float32)
        self.rewards = np.zeros((capacity, self.n_envs), dtype=np.float32)

    @property
    def bytes_per_row(self) -> int:
        obs = self.observations
        obs_bytes = sum(v[0].nbytes for v in obs.values()) if isinstance(obs, dict) else obs[0].nbytes
        return obs_bytes + self.actions[0].nbytes + self.rewards[0].nbytes

    @property
    def nbytes(self) -> int:
        """Bytes held by the step storage."""
        return self.capacity * self.bytes_per_row

    def reset(self) -> None:
        """Start a new rollout; the storage is kept for reuse."""
        self.pos = 0
        self.episodes: list[StoredEpisode] = []

    def _grow(self) -> None:
        new_capacity = 2 * self.capacity
        if new_capacity * self.bytes_per_row > self.max_memory_bytes:
            raise MemoryError(
                f"The rollout has run {self.pos} steps per env without completing its episodes, and storing more "
                f"would exceed max_memory_bytes={self.max_memory_bytes}. REINFORCE needs episodes that end: wrap "
                "the env in gymnasium.wrappers.TimeLimit (or pass max_episode_steps to gymnasium.make), or raise "
                "rollout_buffer_kwargs['max_memory_bytes']."
            )
        old_obs, old_actions, old_rewards = self.observations, self.actions, self.rewards
        self._allocate(new_capacity)
        if isinstance(old_obs, dict):
            assert isinstance(self.observations, dict)
            for key in old_obs:
                self.observations[key][: self.pos] = old_obs[key][: self.pos]
        else:
            self.observations[: self.pos] = old_obs[: self.pos]  # type: ignore[index]
        self.actions[: self.pos] = old_actions[: self.pos]
        self.rewards[: self.pos] = old_rewards[: self.pos]

    def add(self, obs: np.ndarray | dict[str, np.ndarray], actions: np.ndarray, rewards: np.ndarray) -> int:
        """
        Store one ``VecEnv.step`` of all envs.

        :param obs: Observations the actions were chosen from
        :param actions: Actions, shape ``(n_envs, ...)``
        :param rewards: Rewards, shape ``(n_envs,)``
        :return: The row the step was written to
        """
        if self.pos == self.capacity:
            self._grow()
        if isinstance(obs, dict):
            assert isinstance(self.observations, dict)
            for key, value in obs.items():
                self.observations[key][self.pos] = value.reshape(self.observations[key].shape[1:])
        else:
            assert not isinstance(self.observations, dict)
            self.observations[self.pos] = obs.reshape(self.observations.shape[1:])
        self.actions[self.pos] = actions.reshape(self.n_envs, self.action_dim)
        self.rewards[self.pos] = rewards
        self.pos += 1
        return self.pos - 1

    def add_episode(self, env_idx: int, start: int, end: int, truncated: bool, terminal_obs: Any = None) -> None:
        """
        Record a complete episode of the batch: rows ``start..end`` (inclusive) of env ``env_idx``.

        :param env_idx: The env it ran in
        :param start: Row of its first step
        :param end: Row of its last step
        :param truncated: Whether it was cut by a time limit rather than terminated
        :param terminal_obs: Its final observation, kept for truncated episodes only
        """
        self.episodes.append(StoredEpisode(env_idx, start, end, truncated, terminal_obs if truncated else None))

    @property
    def n_episode_steps(self) -> int:
        """Steps stored in the recorded episodes (the rest of the rollout's steps are discarded)."""
        return sum(episode.length for episode in self.episodes)

    def _to_torch(self, array: np.ndarray) -> th.Tensor:
        return th.as_tensor(array, device=self.device)

    def get(self) -> EpisodeBatch:
        """:return: The recorded episodes, in the order they were added"""
        if not self.episodes:
            raise RuntimeError("The buffer holds no complete episode")
        lengths = np.array([episode.length for episode in self.episodes], dtype=np.int64)
        rows = np.concatenate([np.arange(episode.start, episode.end + 1) for episode in self.episodes])
        cols = np.repeat([episode.env_idx for episode in self.episodes], lengths)
        truncated = np.array([episode.truncated for episode in self.episodes], dtype=bool)

        observations: th.Tensor | TensorDict
        terminal: th.Tensor | TensorDict | None = None
        terminal_list = [episode.terminal_obs for episode in self.episodes if episode.truncated]
        if isinstance(self.observations, dict):
            observations = {key: self._to_torch(value[rows, cols]) for key, value in self.observations.items()}
            if terminal_list:
                terminal = {
                    key: self._to_torch(np.stack([np.asarray(obs[key]) for obs in terminal_list]).reshape(-1, *shape))
                    for key, shape in self.obs_shape.items()
                }
        else:
            observations = self._to_torch(self.observations[rows, cols])
            if terminal_list:
                terminal = self._to_torch(np.stack([np.asarray(obs) for obs in terminal_list]).reshape(-1, *self.obs_shape))
        return EpisodeBatch(
            observations=observations,
            actions=self._to_torch(self.actions[rows, cols]),
            rewards=pad_episodes(self.rewards[rows, cols], lengths),
            lengths=lengths,
            truncated=truncated,
            terminal_observations=terminal,
        )
