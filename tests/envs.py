"""Small scripted envs whose episodes the tests can predict."""

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.wrappers import TimeLimit
from stable_baselines3.common.envs import SimpleMultiObsEnv


class ScriptedEnv(gym.Env):
    """
    Episode k of this env lasts ``lengths[k % len(lengths)]`` steps. The observation is
    ``[tag, k, t]`` and the reward of step t is ``10 * k + t``, so a test can tell every stored step apart.
    Episodes whose index is in ``truncate`` end by truncation instead of termination.
    """

    metadata: dict = {"render_modes": []}  # noqa: RUF012

    def __init__(self, lengths: list[int], tag: int = 0, truncate: tuple[int, ...] = ()):
        self.lengths, self.tag, self.truncate = lengths, tag, truncate
        self.observation_space = spaces.Box(-1e6, 1e6, (3,), np.float32)
        self.action_space = spaces.Discrete(2)
        self.episode, self.t = -1, 0

    def _obs(self) -> np.ndarray:
        return np.array([self.tag, self.episode, self.t], dtype=np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.episode += 1
        self.t = 0
        return self._obs(), {}

    def step(self, action):
        reward = float(10 * self.episode + self.t)
        self.t += 1
        done = self.t >= self.lengths[self.episode % len(self.lengths)]
        truncated = done and self.episode in self.truncate
        return self._obs(), reward, done and not truncated, truncated, {}


class ChoiceEnv(gym.Env):
    """
    One decision, at step 0. Action 1, the better one, ends the episode at once with reward -1. Action 0 starts a
    detour of ``detour`` steps that ends with total reward -2. Later actions are ignored.

    Short episodes are the good ones, so a collector that keeps the first episodes to *finish* fills its batch with
    action 1 and, without a baseline, pushes the policy toward action 0: the wrong way.
    """

    metadata: dict = {"render_modes": []}  # noqa: RUF012

    def __init__(self, detour: int = 10):
        self.detour = detour
        self.observation_space = spaces.Box(0.0, 1.0, (2,), np.float32)
        self.action_space = spaces.Discrete(2)
        self.t = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.array([1.0, 0.0], dtype=np.float32), {}

    def step(self, action):
        obs = np.array([0.0, 1.0], dtype=np.float32)
        if self.t == 0 and action == 1:
            return obs, -1.0, True, False, {}
        self.t += 1
        done = self.t > self.detour
        return obs, (-2.0 if done else 0.0), done, False, {}


class NeverEndingEnv(gym.Env):
    """An episode that never ends and has no time limit."""

    metadata: dict = {"render_modes": []}  # noqa: RUF012
    observation_space = spaces.Box(-1.0, 1.0, (64,), np.float32)
    action_space = spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(64, dtype=np.float32), {}

    def step(self, action):
        return np.zeros(64, dtype=np.float32), 0.0, False, False, {}


class BadValueEnv(gym.Env):
    """Returns a NaN reward (or observation) at step ``at``."""

    metadata: dict = {"render_modes": []}  # noqa: RUF012
    observation_space = spaces.Box(-1.0, 1.0, (2,), np.float32)
    action_space = spaces.Discrete(2)

    def __init__(self, at: int = 3, where: str = "reward"):
        self.at, self.where, self.t = at, where, 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(2, dtype=np.float32), {}

    def step(self, action):
        self.t += 1
        bad = self.t == self.at
        obs = np.full(2, np.nan if bad and self.where == "observation" else 0.0, dtype=np.float32)
        reward = float("nan") if bad and self.where == "reward" else 1.0
        return obs, reward, self.t >= 10, False, {}


class RepeatedBanditEnv(gym.Env):
    """
    ``n_steps`` identical decisions from the same observation: reward 1 for action 1, else 0. With a constant
    observation the policy is the same at every step, so the discount of step t is all that tells the steps apart.
    """

    metadata: dict = {"render_modes": []}  # noqa: RUF012
    observation_space = spaces.Box(0.0, 1.0, (2,), np.float32)
    action_space = spaces.Discrete(2)

    def __init__(self, n_steps: int = 3):
        self.n_steps, self.t = n_steps, 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.array([1.0, 0.0], dtype=np.float32), {}

    def step(self, action):
        self.t += 1
        return np.array([1.0, 0.0], dtype=np.float32), float(action == 1), self.t >= self.n_steps, False, {}


def dict_env():
    return TimeLimit(SimpleMultiObsEnv(random_start=True), max_episode_steps=20)


class CueMemoryEnv(gym.Env):
    """
    A T-maze in time: the first observation shows a cue, +1 or -1 (``[cue, 0]``); the next ``length - 1`` show only
    the corridor (``[0, 1]``). The action of the last step is the turn: reward 1 if it matches the cue (action 1 for
    +1), else 0. Earlier actions change nothing. Without memory no policy scores above 0.5.
    """

    metadata: dict = {"render_modes": []}  # noqa: RUF012

    def __init__(self, length: int = 3):
        self.length = length
        self.observation_space = spaces.Box(-1.0, 1.0, (2,), np.float32)
        self.action_space = spaces.Discrete(2)
        self.cue, self.t = 1.0, 0

    @staticmethod
    def observations(cue: float, length: int) -> np.ndarray:
        """:return: The ``length`` observations of an episode with this cue"""
        return np.array([[cue, 0.0]] + [[0.0, 1.0]] * (length - 1), dtype=np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.cue, self.t = float(self.np_random.choice([-1.0, 1.0])), 0
        return self.observations(self.cue, self.length)[0], {}

    def step(self, action):
        self.t += 1
        done = self.t == self.length
        reward = float(done and int(action) == int(self.cue > 0))
        obs = self.observations(self.cue, self.length)[min(self.t, self.length - 1)]
        return obs, reward, done, False, {}
