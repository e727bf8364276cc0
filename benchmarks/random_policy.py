"""
How often a uniformly random policy reaches the goal before the time limit: how many of REINFORCE's first batches
can carry a signal on a sparse-reward env (docs/benchmarks.md, "Seeds that stall").

    python benchmarks/random_policy.py --env Acrobot-v1 --episodes 100
    python benchmarks/random_policy.py --env my_pkg/MyEnv-v0 --gym-packages my_pkg     # your own env
"""

import importlib
from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np
import tyro


@dataclass
class Args:
    env: str = "Acrobot-v1"
    """Gymnasium env id (its episodes must end by termination to count as reaching the goal)"""
    gym_packages: list[str] = field(default_factory=list)
    """Modules to import first, so that they register their envs (as sb3-reinforce train's --gym-packages)"""
    episodes: int = 100
    """Episodes, env seeds 0 to episodes - 1"""
    n_episodes: int = 8
    """REINFORCE's N: the share of batches with no success is (1 - rate)^N"""
    seed: int = 0
    """Seed of the random actions"""


def main(args: Args) -> None:
    for module in args.gym_packages:
        importlib.import_module(module)
    env = gym.make(args.env)
    rng = np.random.default_rng(args.seed)
    terminated = 0
    for episode in range(args.episodes):
        env.reset(seed=episode)
        env.action_space.seed(int(rng.integers(2**31)))
        done = ended = False
        while not done:
            _, _, ended, truncated, _ = env.step(env.action_space.sample())
            done = ended or truncated
        terminated += ended
    rate = terminated / args.episodes
    print(f"{args.env}: {terminated} of {args.episodes} random episodes reach the goal ({rate:.0%}); "
          f"a batch of {args.n_episodes} holds none with probability {(1 - rate) ** args.n_episodes:.0%}")  # fmt: skip


if __name__ == "__main__":
    main(tyro.cli(Args))
