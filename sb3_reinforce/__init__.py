import os

from sb3_reinforce.buffers import EpisodeRolloutBuffer
from sb3_reinforce.policies import CnnPolicy, MlpPolicy, MultiInputPolicy
from sb3_reinforce.reinforce import REINFORCE
from sb3_reinforce.vec_env import SubsetDummyVecEnv, SubsetSubprocVecEnv

__all__ = [
    "REINFORCE",
    "CnnPolicy",
    "EpisodeRolloutBuffer",
    "MlpPolicy",
    "MultiInputPolicy",
    "SubsetDummyVecEnv",
    "SubsetSubprocVecEnv",
]

with open(os.path.join(os.path.dirname(__file__), "version.txt")) as file_handler:
    __version__ = file_handler.read().strip()
