"""
The class defaults on envs nobody tuned for: ``REINFORCE("MlpPolicy", env)`` against ``PPO("MlpPolicy", env)`` and
``A2C("MlpPolicy", env)`` with SB3's defaults, the same envs, budgets and seeds (docs/defaults.md).

    python benchmarks/defaults_suite.py --report --seeds 1000 1001 1002             # the published table
    python benchmarks/defaults_suite.py --seeds 0 1 2 --algos reinforce \\
        --reinforce-kwargs baseline=value --tag value                                # a trial of other defaults

This is what a user does first on their own env: no zoo entry, no VecNormalize, no time feature. Every algo gets
the same ``make_vec_env(env, n_envs=8, seed=seed)`` (REINFORCE's as ``SubsetDummyVecEnv``, which the docs tell users
to build) and the same budget, and is evaluated deterministically on its own env seeded ``seed + 10_000``, every
``budget / n_evals`` env steps and at the end. Each (algo, env, seed) trains in its own process, one torch thread,
and writes one JSON file under ``--out-dir``; a run whose file exists is skipped, so an interrupted suite resumes.

Seeds: ``--report`` runs are for the published table and need report seeds (1000+); without it the seeds must be
trial seeds (0-99), and ``--reinforce-kwargs`` tries other settings (``benchmarks/seeds.py``).
"""

import ast
import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import tyro

sys.path.insert(0, str(Path(__file__).parent))
from seeds import check_seeds

REPORT_DIR, TRIAL_DIR = "docs/results/report/defaults_suite", "docs/results/trials/defaults_suite"
# The development suite of issue 17, with each env's budget: none of them has a tuned entry in the comparison
SUITE = {
    "CartPole-v1": 100_000,
    "Acrobot-v1": 300_000,
    "LunarLanderContinuous-v3": 500_000,
    "BipedalWalker-v3": 500_000,
    "Hopper-v5": 500_000,
    "Walker2d-v5": 500_000,
}


@dataclass
class Args:
    envs: list[str] = field(default_factory=lambda: list(SUITE))
    """Env ids of the suite (each with its budget in SUITE)"""
    algos: list[str] = field(default_factory=lambda: ["reinforce", "ppo", "a2c"])
    """reinforce, ppo and/or a2c, each with its class defaults"""
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    """Seeds, the same for every algo and env"""
    report: bool = False
    """Runs for the published table: report seeds (1000 and up) only, and no --reinforce-kwargs"""
    reinforce_kwargs: list[str] = field(default_factory=list)
    """Trials only: REINFORCE constructor arguments as KEY=VALUE (a Python literal), e.g. baseline='value'"""
    tag: str = "defaults"
    """Name of the REINFORCE setting in the file names (one per --reinforce-kwargs)"""
    n_envs: int = 8
    """Envs of every algo's VecEnv"""
    n_evals: int = 10
    """Evaluations during training (5 episodes each), plus the final one"""
    final_episodes: int = 20
    """Episodes of the final deterministic evaluation"""
    out_dir: str | None = None
    """One JSON file per run goes to <out-dir>/<env>/ (default: docs/results/report/defaults_suite with --report,
    docs/results/trials/defaults_suite without, so that no published table can read a trial's run)"""


def parse_kwargs(pairs: list[str]) -> dict:
    kwargs = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(f"--reinforce-kwargs takes KEY=VALUE, got {pair!r}")
        try:
            kwargs[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            kwargs[key] = value  # a bare word, e.g. baseline=value
    return kwargs


def train_one(spec: dict) -> dict:
    """Runs in a fresh process: one training run with the class defaults."""
    import torch as th
    from stable_baselines3 import A2C, PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.evaluation import evaluate_policy

    from sb3_reinforce import REINFORCE, SubsetDummyVecEnv

    th.set_num_threads(1)
    env_id, seed, budget = spec["env"], spec["seed"], spec["budget"]
    vec_env_cls = SubsetDummyVecEnv if spec["algo"] == "reinforce" else None
    env = make_vec_env(env_id, n_envs=spec["n_envs"], seed=seed, vec_env_cls=vec_env_cls)
    eval_env = make_vec_env(env_id, n_envs=1, seed=seed + 10_000)
    if spec["algo"] == "reinforce":
        model = REINFORCE("MlpPolicy", env, seed=seed, **spec["reinforce_kwargs"])
    else:
        model = {"ppo": PPO, "a2c": A2C}[spec["algo"]]("MlpPolicy", env, seed=seed)

    class Curve(BaseCallback):
        """Evaluates at the start and every budget / n_evals env steps; the clock counts training only"""

        def __init__(self) -> None:
            super().__init__()
            self.next_eval, self.evals, self.seconds, self.last = 0, [], 0.0, 0.0

        def _evaluate(self, n_episodes: int) -> float:
            self.seconds += time.perf_counter() - self.last
            mean, _ = evaluate_policy(self.model, eval_env, n_episodes, deterministic=True)
            self.evals.append((self.model.num_timesteps, round(self.seconds, 3), float(mean)))
            self.last = time.perf_counter()
            return float(mean)

        def _on_training_start(self) -> None:
            self.last, self.next_eval = time.perf_counter(), budget // spec["n_evals"]
            self._evaluate(5)  # the initial policy

        def _on_step(self) -> bool:
            if self.num_timesteps >= self.next_eval:
                self.next_eval += budget // spec["n_evals"]
                self._evaluate(5)
            return True

    curve = Curve()
    model.learn(budget, callback=curve)
    final = curve._evaluate(spec["final_episodes"])
    return {**spec, "final_eval": final, "num_timesteps": model.num_timesteps, "train_seconds": curve.seconds,
            "evals": curve.evals}  # fmt: skip


def main(args: Args) -> None:
    check_seeds("report" if args.report else "trial", args.seeds)
    if args.report and (args.reinforce_kwargs or args.tag != "defaults"):
        raise ValueError("--report publishes the class defaults: it takes no --reinforce-kwargs or --tag")
    kwargs = parse_kwargs(args.reinforce_kwargs)
    unknown = [env for env in args.envs if env not in SUITE]
    if unknown:
        raise ValueError(f"--envs must be in the suite {list(SUITE)}, got {unknown}")
    failed = []
    for env_id in args.envs:
        out = Path(args.out_dir or (REPORT_DIR if args.report else TRIAL_DIR)) / env_id
        out.mkdir(parents=True, exist_ok=True)
        for seed in args.seeds:
            for algo in args.algos:
                name = f"{algo}_{args.tag}" if algo == "reinforce" else algo
                path = out / f"{name}_seed{seed}.json"
                if path.exists():
                    continue
                spec = dict(algo=algo, setting=name, env=env_id, seed=seed, budget=SUITE[env_id],
                            reinforce_kwargs=kwargs if algo == "reinforce" else {}, n_envs=args.n_envs,
                            n_evals=args.n_evals, final_episodes=args.final_episodes)  # fmt: skip
                print(f"# {path} ...", file=sys.stderr, flush=True)
                proc = subprocess.run([sys.executable, __file__, "--worker", json.dumps(spec)], capture_output=True, text=True)
                if proc.returncode != 0:
                    print(f"# {path.name} failed:\n{proc.stderr[-2000:]}", file=sys.stderr)
                    failed.append(path.name)
                    continue
                tmp = path.with_suffix(".tmp")
                tmp.write_text(proc.stdout.strip().splitlines()[-1] + "\n")
                tmp.rename(path)  # a reader never sees half a file
                result = json.loads(path.read_text())
                print(f"# wrote {path}: final {result['final_eval']:.1f} in {result['train_seconds']:.0f} s", file=sys.stderr)
    if failed:
        raise SystemExit(f"failed runs: {failed}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        print(json.dumps(train_one(json.loads(sys.argv[2]))))
    else:
        main(tyro.cli(Args))
