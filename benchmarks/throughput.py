"""
Training throughput of REINFORCE against SB3's sampling floor, PPO and A2C, in one run.

For each env, and each of

  (a) vecenv    VecEnv stepping alone, with pre-sampled random actions (the physical floor)
  (b) forward   VecEnv step + one SB3 policy forward per step, as SB3's collect_rollouts does (SB3's sampling floor)
  (c) reinforce REINFORCE.learn with our zoo config (zoo_configs/reinforce.yml)
  (d) ppo       PPO.learn with rl_zoo3's tuned hyperparameters
  (e) a2c       A2C.learn with rl_zoo3's tuned hyperparameters
  (f) ppo_lstm  sb3-contrib's RecurrentPPO.learn with rl_zoo3's tuned hyperparameters (for an LSTM entry of ours)

it measures env steps per second, in a fresh process per measurement (so each one's peak RSS is its own), with
1 torch thread. Repeats are interleaved (a b c d e a b c d e ...) so drift on a noisy machine hits all alike; the
table reports medians and ratios.

Every measurement of an env goes to ``<out-dir>/<env>.json``, which ``docs/tables.py`` renders into
docs/benchmarks.md (``<!-- table: throughput FILE -->``). An env whose file exists is skipped, so an interrupted
run resumes; delete the files (or pass another --out-dir) to measure again.

    python benchmarks/throughput.py                       # the tables in docs/benchmarks.md
    python benchmarks/throughput.py --memory-steps 1000000 # peak RSS of 1M-step CartPole-v1 runs, REINFORCE vs PPO
    python benchmarks/throughput.py --envs CartPoleNoVel-v1 --n-envs 8 --modes reinforce ppo_lstm --steps 20000 \
        --out-dir docs/results/recurrent/throughput       # the LSTM entry against RecurrentPPO (docs/recurrent.md)

rl_zoo3 ships PPO and A2C entries for the MuJoCo v4 ids only; ``--entry-envs Hopper-v5=Hopper-v4`` (the default)
trains them on Hopper-v5 with their Hopper-v4 hyperparameters.
"""

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import tyro

from sb3_reinforce.report import memory_table, throughput_table

MODES = ("vecenv", "forward", "reinforce", "ppo", "a2c")  # the default --modes
ALL_MODES = (*MODES, "ppo_lstm")  # ppo_lstm on request, beside an LSTM entry of ours
ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Args:
    envs: list[str] = field(default_factory=lambda: ["CartPole-v1", "Acrobot-v1", "LunarLander-v3", "Hopper-v5"])
    """Gymnasium env ids"""
    n_envs: list[int] = field(default_factory=lambda: [8, 16, 16, 8])
    """Parallel envs of (a) and (b) for each env id (same order); (c)-(e) use their zoo entry's n_envs"""
    entry_envs: list[str] = field(default_factory=lambda: ["Hopper-v5=Hopper-v4"])
    """ENV=ENTRY: train PPO and A2C on ENV with their zoo hyperparameters for ENTRY"""
    out_dir: str = "docs/results/throughput"
    """One JSON file of measurements per env goes here"""
    steps: int = 50_000
    """Env steps per measurement"""
    repeats: int = 3
    """Interleaved repeats; the table shows the median"""
    modes: list[str] = field(default_factory=lambda: list(MODES))
    """Which of vecenv forward reinforce ppo a2c ppo_lstm to run"""
    memory_steps: int = 0
    """If > 0, instead: peak RSS of REINFORCE and PPO on CartPole-v1 for this many steps"""


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _borrowed_entry_config(algo: str, env_id: str, entry_env: str) -> str:
    """:return: A YAML file whose entry for ``env_id`` is ``algo``'s rl_zoo3 entry for ``entry_env``"""
    import yaml

    from sb3_reinforce.zoo import zoo_entry

    entry, _, _ = zoo_entry(algo, entry_env)
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as file:
        yaml.safe_dump({env_id: dict(entry)}, file)
    return file.name


def _measure(mode: str, env_id: str, n_envs: int, steps: int, seed: int, entry_env: str | None = None) -> dict:
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

        config = _borrowed_entry_config(mode, env_id, entry_env) if entry_env and mode in ("ppo", "a2c") else None
        try:
            model = make_model(mode, env_id, seed=seed, config=config)
        finally:
            if config is not None:  # read while the model is built
                os.unlink(config)
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


def _run_in_subprocess(mode: str, env_id: str, n_envs: int, steps: int, seed: int, entry_env: str | None = None) -> dict:
    spec = json.dumps(dict(mode=mode, env_id=env_id, n_envs=n_envs, steps=steps, seed=seed, entry_env=entry_env))
    out = subprocess.run([sys.executable, __file__, "--worker", spec], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{mode} on {env_id} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def machine() -> dict:
    """:return: The versions and machine a benchmark result was measured with (also benchmarks/profile_run.py's)"""
    import gymnasium
    import stable_baselines3
    import torch

    commit = subprocess.run(["git", "describe", "--always", "--dirty", "--abbrev=7"], capture_output=True, text=True, cwd=ROOT)
    return {
        "commit": commit.stdout.strip() or None,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "stable_baselines3": stable_baselines3.__version__,
        "gymnasium": gymnasium.__version__,
        "cpu_count": os.cpu_count(),
        "torch_threads": 1,
    }


def main(args: Args) -> None:
    unknown = [mode for mode in args.modes if mode not in ALL_MODES]
    if unknown:
        raise ValueError(f"--modes must be among {list(ALL_MODES)}, got {unknown}")
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if args.memory_steps > 0:
        memory = {mode: _run_in_subprocess(mode, "CartPole-v1", 8, args.memory_steps, 0) for mode in ("reinforce", "ppo")}
        path = out_dir / "memory_CartPole-v1.json"
        path.write_text(json.dumps({"steps": args.memory_steps, "machine": machine(), "runs": memory}, indent=1))
        print(f"wrote {path}\n\n{memory_table(path)}")
        return

    entry_envs = dict(item.split("=", 1) for item in args.entry_envs)
    todo = [
        (env_id, n_envs)
        for env_id, n_envs in zip(args.envs, args.n_envs, strict=True)
        if not (out_dir / f"{env_id}.json").exists()
    ]
    results: dict[tuple[str, str], list[dict]] = {}
    for repeat in range(args.repeats):
        for env_id, n_envs in todo:
            for mode in args.modes:
                result = _run_in_subprocess(mode, env_id, n_envs, args.steps, repeat, entry_envs.get(env_id))
                results.setdefault((env_id, mode), []).append(result)
                print(f"# repeat {repeat} {env_id} {mode}: {result['steps_per_s']:.0f} steps/s", file=sys.stderr, flush=True)
    for env_id, _ in todo:
        path = out_dir / f"{env_id}.json"
        record = {
            "env": env_id,
            "steps": args.steps,
            "repeats": args.repeats,
            "entry_env": entry_envs.get(env_id),
            "machine": machine(),
            "measurements": {mode: results[(env_id, mode)] for mode in args.modes},
        }
        path.write_text(json.dumps(record, indent=1))
        print(f"wrote {path}")
    for env_id in args.envs:  # the tables as docs/benchmarks.md renders them, from the files (new or kept)
        path = out_dir / f"{env_id}.json"
        if path.exists():
            print(f"\n### {env_id}\n\n{throughput_table(path)}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        print(json.dumps(_measure(**json.loads(sys.argv[2]))))
    else:
        main(tyro.cli(Args))
