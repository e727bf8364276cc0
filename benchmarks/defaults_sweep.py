"""
Sweep REINFORCE's estimator choices (return_type x baseline x normalize_advantage) on CartPole-v1 and
Acrobot-v1, to choose the constructor defaults by measurement.

Each (env, setting, seed) writes one JSON file to ``--out-dir``; a run whose file exists is skipped, so an
interrupted sweep resumes. ``docs/tables.py`` renders the files into docs/defaults.md
(``<!-- table: defaults DIR -->``).

    python benchmarks/defaults_sweep.py --seeds 0 1 2 --out-dir docs/results/defaults/step1
"""

import itertools
import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch as th
import tyro
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy

from sb3_reinforce import REINFORCE, SubsetDummyVecEnv
from sb3_reinforce.report import defaults_table

sys.path.insert(0, str(Path(__file__).parent))
from seeds import check_seeds


@dataclass
class Args:
    envs: list[str] = field(default_factory=lambda: ["CartPole-v1", "Acrobot-v1"])
    """Gymnasium env ids"""
    timesteps: list[int] = field(default_factory=lambda: [100_000, 200_000])
    """Training budget per env (same order as --envs)"""
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    """Seeds per configuration"""
    n_envs: int = 8
    """Parallel envs"""
    learning_rates: list[float] = field(default_factory=lambda: [1e-3])
    """Learning rates to try"""
    n_episodes: list[int] = field(default_factory=lambda: [8])
    """Episodes per update to try"""
    return_types: list[str] = field(default_factory=lambda: ["total", "reward_to_go"])
    baselines: list[str] = field(default_factory=lambda: ["none", "mean", "leave_one_out", "value"])
    normalize: list[bool] = field(default_factory=lambda: [False, True])
    out_dir: str = "docs/results/defaults/step1"
    """One JSON file per (env, setting, seed) goes here"""


@dataclass
class Setting:
    return_type: str
    baseline: str
    normalize_advantage: bool
    learning_rate: float
    n_episodes: int

    def name(self, env_id: str, seed: int) -> str:
        norm = "norm" if self.normalize_advantage else "raw"
        return f"{env_id}_{self.return_type}_{self.baseline}_{norm}_lr{self.learning_rate:g}_N{self.n_episodes}_seed{seed}"


def run(env_id: str, timesteps: int, seed: int, n_envs: int, setting: Setting) -> dict:
    """:return: The run's record: its final deterministic eval (20 episodes) and its last 100 training episodes"""
    env = make_vec_env(env_id, n_envs=n_envs, seed=seed, vec_env_cls=SubsetDummyVecEnv)
    model = REINFORCE("MlpPolicy", env, seed=seed, **asdict(setting))
    start = time.perf_counter()
    model.learn(timesteps)
    seconds = time.perf_counter() - start
    eval_env = make_vec_env(env_id, n_envs=1, seed=10_000 + seed)
    final, _ = evaluate_policy(model, eval_env, n_eval_episodes=20, deterministic=True)
    return {
        "env": env_id,
        "seed": seed,
        "timesteps": timesteps,
        "n_envs": n_envs,
        **asdict(setting),
        "final_eval": float(final),
        "last_100_train": float(np.mean([ep["r"] for ep in model.ep_info_buffer])),
        "train_seconds": seconds,
    }


def main(args: Args) -> None:
    check_seeds("trial", args.seeds)  # a sweep chooses defaults: seeds 0-99 only (benchmarks/seeds.py)
    th.set_num_threads(1)
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for env_id, timesteps in zip(args.envs, args.timesteps, strict=True):
        for rt, bl, norm, lr, n_ep in itertools.product(
            args.return_types, args.baselines, args.normalize, args.learning_rates, args.n_episodes
        ):
            if bl == "leave_one_out" and n_ep < 2:
                continue
            setting = Setting(rt, bl, norm, lr, n_ep)
            for seed in args.seeds:
                path = out_dir / f"{setting.name(env_id, seed)}.json"
                if path.exists():
                    continue
                record = run(env_id, timesteps, seed, args.n_envs, setting)
                path.write_text(json.dumps(record, indent=1))
                print(f"{path.name}: final eval {record['final_eval']:.1f}", flush=True)
    # Every run in --out-dir, as docs/defaults.md renders them
    print(f"\n{defaults_table(out_dir)}")


if __name__ == "__main__":
    main(tyro.cli(Args))
