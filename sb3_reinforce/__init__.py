import os

from sb3_reinforce.buffers import EpisodeRolloutBuffer
from sb3_reinforce.policies import CnnPolicy, MlpPolicy, MultiInputPolicy
from sb3_reinforce.reinforce import REINFORCE

__all__ = ["REINFORCE", "CnnPolicy", "EpisodeRolloutBuffer", "MlpPolicy", "MultiInputPolicy"]

with open(os.path.join(os.path.dirname(__file__), "version.txt")) as file_handler:
    __version__ = file_handler.read().strip()
