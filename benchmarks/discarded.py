"""
Share of env steps that no batch used (``rollout/discarded_frac``) over a whole run, by VecEnv and batch size.

    python benchmarks/discarded.py --env CartPole-v1 --timesteps 100000 --seeds 0 1 2

Every row trains REINFORCE with the class defaults (except ``n_episodes``) on ``make_vec_env(env, n_envs, seed,
vec_env_cls=...)``, one torch thread, and reports the mean over seeds of ``model._n_discarded_steps /
model.num_timesteps`` and of the number of updates.
"""

import json
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path

import torch as th
import tyro
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import DummyVecEnv

from sb3_reinforce import REINFORCE, SubsetDummyVecEnv

SETTINGS = [  # (VecEnv, n_envs, n_episodes)
    ("DummyVecEnv", 1, 8),
    ("DummyVecEnv", 8, 8),
    ("DummyVecEnv", 8, 32),
    ("SubsetDummyVecEnv", 8, 8),
    ("SubsetDummyVecEnv", 8, 32),
]


@dataclass
class Args:
    env: str = "CartPole-v1"
    """Gymnasium env id"""
    timesteps: int = 100_000
    """Env steps per run"""
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    """Seeds"""
    out: str | None = None
    """Also write the table as JSON here (docs/tables.py renders it)"""


def main(args: Args) -> None:
    th.set_num_threads(1)
    print(f"{args.env}, {args.timesteps} env steps, class defaults, seeds {args.seeds} (mean over seeds)\n")
    columns = ["VecEnv", "n_envs", "n_episodes", "discarded", "updates"]
    print("| " + " | ".join(columns) + " |\n|---|---|---|---|---|")
    rows = []
    for vec_env, n_envs, n_episodes in SETTINGS:
        vec_env_cls = SubsetDummyVecEnv if vec_env == "SubsetDummyVecEnv" else DummyVecEnv
        fractions, updates = [], []
        for seed in args.seeds:
            env = make_vec_env(args.env, n_envs=n_envs, seed=seed, vec_env_cls=vec_env_cls)
            model = REINFORCE("MlpPolicy", env, n_episodes=n_episodes, seed=seed)
            model.learn(args.timesteps)
            fractions.append(model._n_discarded_steps / model.num_timesteps)
            updates.append(model._n_updates)
        rows.append([vec_env, n_envs, n_episodes, f"{statistics.mean(fractions):.1%}", f"{statistics.mean(updates):.0f}"])
        print("| " + " | ".join(map(str, rows[-1])) + " |", flush=True)
    if args.out:
        command = "python benchmarks/discarded.py " + " ".join(sys.argv[1:])
        Path(args.out).write_text(json.dumps({"command": command, "columns": columns, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main(tyro.cli(Args))
