"""
Sweep REINFORCE's estimator choices (return_type x baseline x normalize_advantage) on CartPole-v1 and
Acrobot-v1, to choose the constructor defaults by measurement. Prints a markdown table.

    python benchmarks/defaults_sweep.py --seeds 0 1 2
"""

import itertools
import time
from dataclasses import dataclass, field

import numpy as np
import torch as th
import tyro
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy

from sb3_reinforce import REINFORCE, SubsetDummyVecEnv


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


def run(env_id: str, timesteps: int, seed: int, n_envs: int, **kwargs) -> tuple[float, float]:
    env = make_vec_env(env_id, n_envs=n_envs, seed=seed, vec_env_cls=SubsetDummyVecEnv)
    model = REINFORCE("MlpPolicy", env, seed=seed, **kwargs)
    model.learn(timesteps)
    # Training-curve average: ep_rew_mean over the whole run (rewards learning speed, not just the end)
    eval_env = make_vec_env(env_id, n_envs=1, seed=10_000 + seed)
    final, _ = evaluate_policy(model, eval_env, n_eval_episodes=20, deterministic=True)
    return float(final), float(np.mean([ep["r"] for ep in model.ep_info_buffer]))


def main(args: Args) -> None:
    th.set_num_threads(1)
    print("| env | return_type | baseline | normalize | lr | n_episodes | eval mean | eval min | last 100 train | s/run |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for env_id, timesteps in zip(args.envs, args.timesteps, strict=False):
        for rt, bl, norm, lr, n_ep in itertools.product(
            args.return_types, args.baselines, args.normalize, args.learning_rates, args.n_episodes
        ):
            if bl == "leave_one_out" and n_ep < 2:
                continue
            t0 = time.time()
            results = [
                run(
                    env_id,
                    timesteps,
                    seed,
                    args.n_envs,
                    return_type=rt,
                    baseline=bl,
                    normalize_advantage=norm,
                    learning_rate=lr,
                    n_episodes=n_ep,
                )
                for seed in args.seeds
            ]
            finals, trains = zip(*results, strict=False)
            print(
                f"| {env_id} | {rt} | {bl} | {norm} | {lr:g} | {n_ep} | {np.mean(finals):.1f} | {np.min(finals):.1f} | "
                f"{np.mean(trains):.1f} | {(time.time() - t0) / len(args.seeds):.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main(tyro.cli(Args))
