"""
Env steps to a threshold, and the share of steps discarded, for REINFORCE settings over seeds (resumable).

    python benchmarks/sample_efficiency.py --env CartPole-v1 --threshold 475 --seeds $(seq 0 9) \\
        --learning-rates 3e-3 --n-episodes 8 --vec-env subset all

Each (env, vec_env, learning rate, n_episodes, seed) trains in its own process and writes one JSON file under
``--out-dir``; a run whose file exists is read back, not re-run, so an interrupted sweep resumes. The table printed
at the end is built from the files. One torch thread per run.

A run evaluates the deterministic policy on ``--eval-episodes`` episodes every ``--eval-freq`` env steps until its
mean first reaches ``--threshold`` ("steps to threshold", so its resolution is ``--eval-freq``), then trains to the
end of the budget and evaluates the final policy on ``--final-episodes`` episodes. ``--vec-env subset`` builds the
envs as ``SubsetDummyVecEnv`` (only the envs a batch needs are stepped), ``all`` as SB3's ``DummyVecEnv`` (every
env stepped at every step, as before the Subset VecEnvs existed).
"""

import json
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from itertools import product
from pathlib import Path

import tyro

sys.path.insert(0, str(Path(__file__).parent))
from seeds import check_seeds


@dataclass
class Args:
    env: str = "CartPole-v1"
    """Gymnasium env id"""
    threshold: float = 475.0
    """Deterministic eval mean counted as solved"""
    timesteps: int = 100_000
    """Training budget (env steps) of every run"""
    n_envs: int = 8
    """Parallel envs"""
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    """Seeds"""
    learning_rates: list[str] = field(default_factory=lambda: ["3e-3"])
    """Learning rates: a number, or lin_<number> for rl_zoo3's linear schedule to 0"""
    n_episodes: list[int] = field(default_factory=lambda: [8])
    """Episodes per update"""
    vec_env: list[str] = field(default_factory=lambda: ["subset"])
    """subset (SubsetDummyVecEnv) and/or all (DummyVecEnv)"""
    return_types: list[str] = field(default_factory=lambda: ["reward_to_go"])
    """return_type values"""
    baselines: list[str] = field(default_factory=lambda: ["leave_one_out"])
    """baseline values"""
    critic_batch_size: int = 64
    """The critic's minibatch (baseline "value" only; REINFORCE's default is 64)"""
    critic_learning_rate: float = 1e-3
    """The critic's Adam learning rate (baseline "value" only; REINFORCE's default is 1e-3)"""
    n_critic_updates: int = 10
    """The critic's regression passes per batch (baseline "value" only; REINFORCE's default is 10)"""
    gamma: float = 0.99
    """Discount factor (REINFORCE's default is 0.99)"""
    ent_coef: float = 0.0
    """Entropy coefficient (REINFORCE's default is 0.0)"""
    normalize_obs: bool = False
    """Wrap the envs in VecNormalize on observations only (rl_zoo3's ``normalize``, rewards left alone); the eval
    env uses the training statistics, frozen"""
    time_feature: bool = False
    """Wrap each env in sb3-contrib's TimeFeatureWrapper (rl_zoo3's ``env_wrapper``): the observation gains the
    remaining share of the time limit, so the critic can fit returns that depend on the time left"""
    eval_freq: int = 1_000
    """Evaluate every this many env steps until the threshold is reached"""
    eval_episodes: int = 10
    """Episodes per evaluation"""
    final_episodes: int = 50
    """Episodes of the evaluation after training"""
    out_dir: str = "results/sample_efficiency"
    """One JSON file per run goes to <out-dir>/<env>/"""
    report: bool = False
    """Runs for a published table: the seeds must be report seeds (1000 and up). Without it the seeds must be trial
    seeds (0-99): see benchmarks/seeds.py"""


def run_name(args: Args, vec_env: str, lr: str, n_episodes: int, seed: int, return_type: str, baseline: str) -> str:
    """The file name of one run: only the settings that differ from this script's defaults (REINFORCE's) are
    spelled out, so the class defaults' runs keep the short name."""
    default = Args()
    estimator = "" if (return_type, baseline) == ("reward_to_go", "leave_one_out") else f"_{return_type}_{baseline}"
    critic = ""
    if baseline == "value":
        critic += f"_cbs{args.critic_batch_size}" if args.critic_batch_size != default.critic_batch_size else ""
        critic += f"_clr{args.critic_learning_rate:g}" if args.critic_learning_rate != default.critic_learning_rate else ""
        critic += f"_cup{args.n_critic_updates}" if args.n_critic_updates != default.n_critic_updates else ""
    other = f"_gamma{args.gamma:g}" if args.gamma != default.gamma else ""
    other += f"_ent{args.ent_coef:g}" if args.ent_coef != default.ent_coef else ""
    other += ("_normobs" if args.normalize_obs else "") + ("_timefeature" if args.time_feature else "")
    return f"{args.env}_{vec_env}_lr{lr}_N{n_episodes}{estimator}{critic}{other}_seed{seed}"


def train_one(spec: dict) -> dict:
    """Runs in a fresh process: one training run."""
    import torch as th
    from sb3_contrib.common.wrappers import TimeFeatureWrapper
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.evaluation import evaluate_policy
    from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize, sync_envs_normalization

    from sb3_reinforce import REINFORCE, SubsetDummyVecEnv

    th.set_num_threads(1)
    seed = spec["seed"]
    vec_env_cls = SubsetDummyVecEnv if spec["vec_env"] == "subset" else DummyVecEnv
    wrapper_class = TimeFeatureWrapper if spec["time_feature"] else None
    env = make_vec_env(spec["env"], spec["n_envs"], seed, vec_env_cls=vec_env_cls, wrapper_class=wrapper_class)
    eval_env = make_vec_env(spec["env"], n_envs=1, seed=seed + 10_000, wrapper_class=wrapper_class)
    if spec["normalize_obs"]:
        env = VecNormalize(env, norm_reward=False)
        eval_env = VecNormalize(eval_env, training=False, norm_reward=False)

    def evaluate(model, n_episodes: int) -> tuple[float, float]:
        sync_envs_normalization(model.get_env(), eval_env)  # a no-op without VecNormalize
        mean, std = evaluate_policy(model, eval_env, n_episodes, deterministic=True)
        return float(mean), float(std)

    lr_text = spec["learning_rate"]
    if lr_text.startswith("lin_"):
        initial = float(lr_text[4:])
        learning_rate = lambda progress: progress * initial  # noqa: E731
    else:
        learning_rate = float(lr_text)

    class FirstHit(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self.next_eval, self.hit_step, self.hit_seconds, self.evals = spec["eval_freq"], None, None, []
            self.train_seconds, self.last_time = 0.0, time.perf_counter()

        def _on_step(self) -> bool:
            if self.hit_step is None and self.num_timesteps >= self.next_eval:
                self.train_seconds += time.perf_counter() - self.last_time
                self.next_eval += spec["eval_freq"]
                mean, _ = evaluate(self.model, spec["eval_episodes"])
                self.evals.append((self.num_timesteps, mean))
                if mean >= spec["threshold"]:
                    self.hit_step, self.hit_seconds = self.num_timesteps, self.train_seconds
                self.last_time = time.perf_counter()
            return True

    model = REINFORCE(
        "MlpPolicy",
        env,
        learning_rate=learning_rate,
        n_episodes=spec["n_episodes"],
        return_type=spec["return_type"],
        baseline=spec["baseline"],
        critic_batch_size=spec["critic_batch_size"],
        critic_learning_rate=spec["critic_learning_rate"],
        n_critic_updates=spec["n_critic_updates"],
        gamma=spec["gamma"],
        ent_coef=spec["ent_coef"],
        seed=seed,
        policy_kwargs=dict(net_arch=dict(pi=[64, 64], vf=[64, 64])),
    )
    callback = FirstHit()
    model.learn(spec["timesteps"], callback=callback)
    final, final_std = evaluate(model, spec["final_episodes"])
    return {
        **spec,
        "steps_to_threshold": callback.hit_step,
        "train_seconds_to_threshold": callback.hit_seconds,
        "final_eval": float(final),
        "final_eval_std": float(final_std),
        "discarded_frac": model._n_discarded_steps / model.num_timesteps,
        "n_updates": model._n_updates,
        "num_timesteps": model.num_timesteps,
        "evals": callback.evals,
    }


def main(args: Args) -> None:
    check_seeds("report" if args.report else "trial", args.seeds)
    out = Path(args.out_dir) / args.env
    out.mkdir(parents=True, exist_ok=True)
    rows: dict[tuple, list[dict]] = {}
    grid = product(args.vec_env, args.return_types, args.baselines, args.learning_rates, args.n_episodes, args.seeds)
    for vec_env, return_type, baseline, lr, n_episodes, seed in grid:
        name = run_name(args, vec_env, lr, n_episodes, seed, return_type, baseline)
        path = out / f"{name}.json"
        if not path.exists():
            spec = dict(asdict(args), learning_rate=lr, n_episodes=n_episodes, seed=seed)
            for key in ("seeds", "learning_rates", "vec_env", "out_dir", "return_types", "baselines", "report"):
                spec.pop(key, None)
            spec.update(vec_env=vec_env, return_type=return_type, baseline=baseline)
            proc = subprocess.run([sys.executable, __file__, "--worker", json.dumps(spec)], capture_output=True, text=True)
            if proc.returncode != 0:
                print(f"# {path.name} failed:\n{proc.stderr[-2000:]}", file=sys.stderr)
                continue
            path.write_text(proc.stdout.strip().splitlines()[-1] + "\n")
            print(f"# wrote {path}", file=sys.stderr, flush=True)
        rows.setdefault((vec_env, return_type, baseline, lr, n_episodes), []).append(json.loads(path.read_text()))

    never = f">{args.timesteps // 1000}k"
    print(f"{args.env}, {args.n_envs} envs, {args.timesteps} steps, threshold {args.threshold:g} (eval every "
          f"{args.eval_freq} steps, {args.eval_episodes} episodes); final eval {args.final_episodes} episodes\n")  # fmt: skip
    print(
        "| vec_env | return_type | baseline | lr | N | seeds | steps to threshold: median | per seed (k) | "
        "final eval: mean | min | discarded |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for (vec_env, return_type, baseline, lr, n_episodes), runs in rows.items():
        hits = [r["steps_to_threshold"] for r in runs]
        # A run that never reached the threshold counts as the budget (an upper bound on the median)
        median = statistics.median(h if h is not None else float("inf") for h in hits)
        per_seed = " ".join(f"{h / 1000:.1f}" if h is not None else never for h in hits)
        finals = [r["final_eval"] for r in runs]
        print(
            f"| {vec_env} | {return_type} | {baseline} | {lr} | {n_episodes} | {len(runs)} | "
            f"{f'{median / 1000:.1f}k' if median != float('inf') else never} | {per_seed} | "
            f"{statistics.mean(finals):.1f} | {min(finals):.1f} | {statistics.mean(r['discarded_frac'] for r in runs):.0%} |"
        )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        print(json.dumps(train_one(json.loads(sys.argv[2]))))
    else:
        main(tyro.cli(Args))
