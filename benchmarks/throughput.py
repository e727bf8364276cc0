"""
Training throughput of REINFORCE against SB3's sampling floor, PPO and A2C, in one run.

For each env, and each of

  (a) vecenv    VecEnv stepping alone, with pre-sampled random actions (the physical floor)
  (b) forward   VecEnv step + one SB3 policy forward per step, as SB3's collect_rollouts does (SB3's sampling floor)
  (c) reinforce REINFORCE.learn with our zoo config (zoo_configs/reinforce.yml)
  (d) ppo       PPO.learn with rl_zoo3's tuned hyperparameters
  (e) a2c       A2C.learn with rl_zoo3's tuned hyperparameters

it measures env steps per second, in a fresh process per measurement (so each one's peak RSS is its own), with
1 torch thread. Repeats are interleaved (a b c d e a b c d e ...) so drift on a noisy machine hits all alike; the
table reports medians and ratios.

    python benchmarks/throughput.py                       # the table in docs/benchmarks.md
    python benchmarks/throughput.py --memory-steps 1000000 # peak RSS of 1M-step CartPole-v1 runs, REINFORCE vs PPO
"""

import json
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field

import tyro

MODES = ("vecenv", "forward", "reinforce", "ppo", "a2c")


@dataclass
class Args:
    envs: list[str] = field(default_factory=lambda: ["CartPole-v1", "Acrobot-v1", "LunarLander-v3"])
    """Gymnasium env ids"""
    n_envs: list[int] = field(default_factory=lambda: [8, 16, 16])
    """Parallel envs for each env id (same order); (c)-(e) use their config's n_envs if it differs"""
    steps: int = 50_000
    """Env steps per measurement"""
    repeats: int = 3
    """Interleaved repeats; the table shows the median"""
    modes: list[str] = field(default_factory=lambda: list(MODES))
    """Which of vecenv forward reinforce ppo a2c to run"""
    memory_steps: int = 0
    """If > 0, instead: peak RSS of REINFORCE and PPO on CartPole-v1 for this many steps"""


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _measure(mode: str, env_id: str, n_envs: int, steps: int, seed: int) -> dict:
    """Runs in a fresh process: one measurement."""
    import numpy as np
    import torch as th
    from stable_baselines3.common.env_util import make_vec_env

    th.set_num_threads(1)
    if mode in ("vecenv", "forward"):
        env = make_vec_env(env_id, n_envs=n_envs, seed=seed)
        env.action_space.seed(seed)
        actions = np.array([[env.action_space.sample() for _ in range(n_envs)] for _ in range(1024)])
        policy = None
        if mode == "forward":
            from stable_baselines3.common.policies import ActorCriticPolicy
            from stable_baselines3.common.utils import obs_as_tensor

            policy = ActorCriticPolicy(env.observation_space, env.action_space, lambda _: 0.0)
            policy.set_training_mode(False)
        obs = env.reset()
        start = time.perf_counter()
        for i in range(steps // n_envs):
            if policy is not None:
                with th.no_grad():
                    action, _, _ = policy(obs_as_tensor(obs, policy.device))
                action = action.cpu().numpy()
            else:
                action = actions[i % len(actions)]
            obs, _, _, _ = env.step(action)
        seconds = time.perf_counter() - start
        done_steps = (steps // n_envs) * n_envs
    else:
        from sb3_reinforce.zoo import make_model

        model = make_model(mode, env_id, seed=seed)
        start = time.perf_counter()
        model.learn(steps)
        seconds = time.perf_counter() - start
        done_steps = model.num_timesteps
        n_envs = model.n_envs
        # Steps that entered a batch (REINFORCE discards the rest; PPO and A2C use every step)
        used_steps = done_steps - getattr(model, "_n_discarded_steps", 0)
        return {
            "steps_per_s": done_steps / seconds,
            "used_steps_per_s": used_steps / seconds,
            "peak_rss_mb": _peak_rss_mb(),
            "n_envs": n_envs,
        }
    return {"steps_per_s": done_steps / seconds, "used_steps_per_s": done_steps / seconds, "peak_rss_mb": _peak_rss_mb(),
            "n_envs": n_envs}  # fmt: skip


def _run_in_subprocess(mode: str, env_id: str, n_envs: int, steps: int, seed: int) -> dict:
    spec = json.dumps(dict(mode=mode, env_id=env_id, n_envs=n_envs, steps=steps, seed=seed))
    out = subprocess.run([sys.executable, __file__, "--worker", spec], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{mode} on {env_id} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(args: Args) -> None:
    if args.memory_steps > 0:
        print(f"Peak RSS of a {args.memory_steps}-step CartPole-v1 run (fresh process each, 1 torch thread)\n")
        print("| algo | peak RSS (MB) | steps/s |\n|---|---|---|")
        for mode in ("reinforce", "ppo"):
            result = _run_in_subprocess(mode, "CartPole-v1", 8, args.memory_steps, 0)
            print(f"| {mode} | {result['peak_rss_mb']:.0f} | {result['steps_per_s']:.0f} |", flush=True)
        return

    results: dict[tuple[str, str], list[dict]] = {}
    for repeat in range(args.repeats):
        for env_id, n_envs in zip(args.envs, args.n_envs, strict=True):
            for mode in args.modes:
                result = _run_in_subprocess(mode, env_id, n_envs, args.steps, seed=repeat)
                results.setdefault((env_id, mode), []).append(result)
                print(f"# repeat {repeat} {env_id} {mode}: {result['steps_per_s']:.0f} steps/s", file=sys.stderr, flush=True)

    print(f"Env steps per second, median of {args.repeats} interleaved repeats of {args.steps} steps, 1 torch thread\n")
    for env_id in args.envs:
        median = {
            mode: statistics.median(r["steps_per_s"] for r in results[(env_id, mode)])
            for mode in args.modes
            if (env_id, mode) in results
        }
        print(
            f"### {env_id}\n\n| what | n_envs | steps/s (median) | min-max | used steps/s (median) | peak RSS (MB) |\n"
            "|---|---|---|---|---|---|"
        )
        for mode in args.modes:
            runs = results[(env_id, mode)]
            fps = [r["steps_per_s"] for r in runs]
            used = statistics.median(r.get("used_steps_per_s", r["steps_per_s"]) for r in runs)
            print(
                f"| ({'abcde'[MODES.index(mode)]}) {mode} | {runs[0]['n_envs']} | {median[mode]:.0f} | "
                f"{min(fps):.0f}-{max(fps):.0f} | {used:.0f} | {max(r['peak_rss_mb'] for r in runs):.0f} |"
            )
        if "reinforce" in median:
            ratios = [f"(c)/{label} = {median['reinforce'] / median[mode]:.2f}" for label, mode in
                      [("(b)", "forward"), ("(d)", "ppo"), ("(e)", "a2c")] if mode in median]  # fmt: skip
            print("\nratios: " + ", ".join(ratios))
        print()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        print(json.dumps(_measure(**json.loads(sys.argv[2]))))
    else:
        main(tyro.cli(Args))
