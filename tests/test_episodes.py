"""benchmarks/episodes.py: what a comparison's trained policy does in an episode (return, length, how it ended)."""

import sys
from pathlib import Path

import torch as th
from stable_baselines3.common.env_util import make_vec_env

from sb3_reinforce import REINFORCE

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import episodes


def test_episodes_of_a_saved_run_report_return_length_and_termination(tmp_path):
    # A CartPole policy that always pushes left, saved where a compare run keeps its model: CartPole pays 1 per step,
    # so each return equals its length, and the pole falls (a termination) within a few dozen steps
    model = REINFORCE("MlpPolicy", make_vec_env("CartPole-v1", n_envs=2, seed=0), seed=0)
    with th.no_grad():
        model.policy.action_net.weight.zero_()
        model.policy.action_net.bias.copy_(th.tensor([10.0, -10.0]))
    model.save(tmp_path / "CartPole-v1.zip")
    result = {"algo": "reinforce", "seed": 0, "spec": {"env": "CartPole-v1"}, "run_dir": str(tmp_path), "config": None}
    rows = episodes.run_episodes(result, 3)
    assert len(rows) == 3
    for total, length, terminated, distance in rows:
        assert total == length and 0 < length < 50 and terminated and distance is None
