"""
Compare REINFORCE with other rl_zoo3 algorithms (PPO and A2C by default) on one env, over seeds.

    sb3-reinforce compare --env CartPole-v1 --seeds 0 1 2 3 4 --workers 2

Every run's hyperparameters come from a zoo YAML file, read at run time by rl_zoo3 itself: REINFORCE's from
``zoo_configs/reinforce.yml``, the others' from the files rl_zoo3 ships (``rl_zoo3/hyperparams/<algo>.yml``).
Each (algo, seed) trains in its own process through rl_zoo3's ``ExperimentManager`` (which parses ``n_envs``,
``normalize``, ``policy_kwargs`` strings, ``lin_`` schedules and env wrappers, builds the envs and the model),
with a callback that evaluates it every ``--eval-freq`` env steps. Under ``<out-dir>/<env>/`` it writes
``curves.csv``, ``summary.md`` and ``curves.png``, and ``runs/`` (each run's rl_zoo3 folder with its
``config.yml`` and final model, its log, and its results as JSON).

Equal time instead of equal steps: ``--time-budget SECONDS`` gives every run the same training time (the callback's
clock, evaluations excluded), and each run stops at the first update after the time is spent. ``--n-timesteps``
then caps the steps and remains the horizon of ``lin_`` schedules. Time budgets compare runs of one machine and one
comparison only, trained one per core (docs/benchmarks.md, "Equal time").

rl_zoo3 and matplotlib come with the compare extra (``pip install 'sb3-reinforce[compare]'``) and are imported
when a comparison runs, so ``import sb3_reinforce`` works without them; ``sb3-reinforce compare`` checks the extra
first and names it in one line when it is missing.

Past one machine (docs/scale.md): ``--shard I/N`` trains only the I-th of N slices of the runs, so that N processes
(on N machines, or the N jobs of a SLURM array) fill one ``--out-dir`` together; the same command without
``--shard`` then reuses every finished run and writes the tables and the plot. Result files are written atomically
(a temporary file, then a rename), and each run is trained under a lock on ``runs/<algo>_seed<seed>.lock``: a process
that finds a run locked waits for it and reuses its result instead of training it a second time.

Internal: ``python -m sb3_reinforce.compare RUN.json`` trains one run (what each worker process executes).
"""

import argparse
import contextlib
import json
import math
import os
import shlex
import socket
import statistics
import subprocess
import sys
import time
import traceback
import uuid
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, TypeVar

from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import VecEnv, sync_envs_normalization

from sb3_reinforce import report
from sb3_reinforce.report import write_curves_csv

ALGO = "reinforce"


@dataclass
class CompareArgs:
    """Train REINFORCE and other rl_zoo3 algorithms on one env over seeds, with the zoo's hyperparameters, and
    compare their evaluation curves. Writes curves.csv, summary.md and curves.png under <out-dir>/<env>/."""

    env: str = "CartPole-v1"
    """Gymnasium env id"""
    algos: list[str] = field(default_factory=lambda: [ALGO, "ppo", "a2c"])
    """Algorithms, by rl_zoo3 name. Each needs an entry for the env in its zoo YAML file: zoo_configs/reinforce.yml
    for reinforce, rl_zoo3/hyperparams/<algo>.yml for the others"""
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2, 3, 4])
    """The seeds, explicitly (for 10 seeds: --seeds $(seq 0 9)). Every algo runs with every seed"""
    n_timesteps: int | None = None
    """Env steps per run, the same for every algo. Default: n_timesteps of the first algo in --algos whose YAML
    has an entry for the env (REINFORCE's with the default --algos). With --time-budget it is the cap on the steps
    (a run that reaches it first ends there) and still the horizon over which lin_ schedules anneal"""
    time_budget: float | None = None
    """Seconds of training per run, the same for every algo, instead of the same steps: each run stops at the first
    update after this much training time (evaluations excluded), or at --n-timesteps if that comes first. Each run
    needs a core of its own (--workers at most the usable cores); seconds compare within one machine and one
    comparison only"""
    eval_freq: int = 10_000
    """Evaluate every this many env steps (counted over all envs of a run). Runs are also evaluated at step 0 and
    at the end of training; <= 0: only then"""
    n_eval_episodes: int = 10
    """Episodes of each deterministic evaluation"""
    final_eval_episodes: int | None = None
    """Episodes of the evaluation at the end of training (the 'final eval' of summary.md). Default: n_eval_episodes"""
    workers: int = 1
    """Runs trained at the same time, each in its own process (at most the number of free cores: runs that share
    a core slow each other down, and the wall-clock curves and fps show it)"""
    out_dir: str = "results/compare"
    """Results go to <out-dir>/<env>/"""
    threshold: float | None = None
    """Eval mean counted as solved, for steps- and seconds-to-threshold. Default: the gymnasium spec's
    reward_threshold (none for some envs: then those columns are left out)"""
    config: str | None = None
    """REINFORCE's hyperparameter file (default: the packaged zoo_configs/reinforce.yml)"""
    algo_configs: list[str] = field(default_factory=list)
    """ALGO=FILE: another algo's hyperparameter file, in rl_zoo3's format, in place of rl_zoo3's own (e.g.
    ppo_lstm=my_ppo_lstm.yml, for an env id rl_zoo3's file has no entry for)"""
    allow_default: bool = False
    """Let an algo without an entry for the env use its YAML's 'default' entry (untuned: off unless asked)"""
    device: str = "cpu"
    """Torch device of every run ("auto" picks a GPU if there is one)"""
    resume: bool = True
    """Reuse a run whose result file in <out-dir> came from the same settings and the same YAML entry, so that an
    interrupted comparison continues where it stopped (--no-resume trains every run again)"""
    shard: str | None = None
    """I/N: train only the I-th of N slices of the (algo, seed) runs (1 <= I <= N) and write their result files, not
    the tables. N processes with the same other flags and --out-dir (N machines, or a SLURM array's N jobs) fill one
    comparison; the same command without --shard then reuses their runs and writes summary.md, curves.csv and
    curves.png (docs/scale.md)"""


def usable_cores() -> int:
    """:return: The cores this process may run on (its affinity mask where the OS has one, else ``os.cpu_count()``)"""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def check_time_budget(time_budget: float | None, workers: int) -> None:
    """
    :param time_budget: ``--time-budget``'s value, in seconds (None: equal steps, nothing to check)
    :param workers: ``--workers``
    :raise ValueError: Naming the value, unless the budget is finite and > 0 and every run can have a core of its own
    """
    if time_budget is None:
        return
    if not (math.isfinite(time_budget) and time_budget > 0):
        raise ValueError(f"--time-budget must be a finite number of seconds > 0, got {time_budget}")
    cores = usable_cores()
    if workers > cores:
        # Runs that share a core train more slowly, so equal seconds would no longer be equal training
        raise ValueError(
            f"--time-budget gives every run the same seconds, so each needs a core of its own: --workers {workers} is more "
            f"than the {cores} usable core(s) of this machine (pass --workers {cores} or fewer)"
        )


def parse_shard(shard: str) -> tuple[int, int]:
    """
    :param shard: ``--shard``'s value, ``"I/N"``
    :return: ``(I, N)``
    :raise ValueError: Naming the value, unless it is two integers with ``1 <= I <= N``
    """
    index, slash, count = shard.partition("/")
    try:
        i, n = int(index), int(count)
    except ValueError:
        i = n = 0
    if not slash or not 1 <= i <= n:
        raise ValueError(f"--shard must be I/N with 1 <= I <= N (e.g. 2/4, the second of four slices), got {shard!r}")
    return i, n


Run = TypeVar("Run")


def shard_runs(runs: Sequence[Run], algos: Sequence[str], seeds: Sequence[int], key: Any, shard: str) -> list[Run]:
    """
    The runs of one slice. Numbered algo by algo, seed by seed (``--algos`` outermost, in the order given), run k
    goes to slice ``k mod N + 1``: each slice gets about as many seeds of every algo, so slices take about as long
    when algos do not. Every process must get the same ``--algos`` and ``--seeds`` in the same order.

    :param runs: The runs, in any order
    :param algos: ``--algos``
    :param seeds: ``--seeds``
    :param key: ``key(run)`` is the run's ``(algo, seed)``
    :param shard: ``"I/N"``
    :return: The runs of slice I, in the order of ``runs``
    """
    index, count = parse_shard(shard)
    number = {(algo, seed): k for k, (algo, seed) in enumerate((algo, seed) for algo in algos for seed in seeds)}
    return [run for run in runs if number[key(run)] % count == index - 1]


# ---------------------------------------------------------------------------------------------------
# Hyperparameters: rl_zoo3's files, through rl_zoo3's ExperimentManager
# ---------------------------------------------------------------------------------------------------


def parse_algo_configs(algo_configs: Sequence[str], algos: Sequence[str]) -> dict[str, str]:
    """
    :param algo_configs: ``--algo-configs``, ``ALGO=FILE`` each
    :param algos: ``--algos``
    :return: FILE by ALGO
    :raise ValueError: For a malformed item, an algo not in ``algos`` or REINFORCE's (``--config``), or a missing file
    """
    configs = {}
    for item in algo_configs:
        algo, sep, path = item.partition("=")
        if not sep or not algo or not path:
            raise ValueError(f"--algo-configs takes ALGO=FILE items, got {item!r}")
        if algo == ALGO:
            raise ValueError(f"--algo-configs {item!r}: REINFORCE's file is --config")
        if algo not in algos:
            raise ValueError(f"--algo-configs {item!r}: {algo!r} is not in --algos {list(algos)}")
        if not Path(path).is_file():
            raise ValueError(f"--algo-configs {item!r}: no such file {path!r}")
        configs[algo] = path
    return configs


def _config_of(args: CompareArgs, algo: str) -> str | None:
    """:return: The YAML file of ``algo``: ``--config`` for REINFORCE, its ``--algo-configs`` file or None (rl_zoo3's
    own) for the others"""
    return args.config if algo == ALGO else parse_algo_configs(args.algo_configs, args.algos).get(algo)


def resolve_args(args: CompareArgs) -> CompareArgs:
    """
    Check the env and algo names, and fill in the defaults that depend on them (``n_timesteps``, ``threshold``).

    :raise ValueError: For a bad ``--shard`` or ``--time-budget``, an unknown env or algo, or no budget to be found
    """
    if args.shard is not None:
        parse_shard(args.shard)
    check_time_budget(args.time_budget, args.workers)
    import gymnasium as gym
    from rl_zoo3.utils import ALGOS

    from sb3_reinforce.zoo import register, zoo_entry

    register()
    if args.env not in gym.envs.registry:
        raise ValueError(f"unknown env {args.env!r}: not in gymnasium's registry")
    unknown = [algo for algo in args.algos if algo not in ALGOS]
    if unknown:
        raise ValueError(f"unknown algo(s) {unknown}: rl_zoo3 knows {sorted(ALGOS)}")
    if not args.algos or not args.seeds:
        raise ValueError("--algos and --seeds must not be empty")
    if len(set(args.seeds)) != len(args.seeds) or len(set(args.algos)) != len(args.algos):
        raise ValueError(f"--algos and --seeds must not repeat, got {args.algos} and {args.seeds}")
    parse_algo_configs(args.algo_configs, args.algos)

    n_timesteps = args.n_timesteps
    if n_timesteps is None:
        for algo in args.algos:
            with contextlib.suppress(ValueError):
                entry, _, _ = zoo_entry(algo, args.env, args.allow_default, config=_config_of(args, algo))
                if "n_timesteps" in entry:
                    n_timesteps = int(entry["n_timesteps"])
                    break
        else:
            raise ValueError(f"none of {args.algos} has a YAML entry with n_timesteps for {args.env}: pass --n-timesteps")
    threshold = args.threshold
    if threshold is None:
        threshold = gym.spec(args.env).reward_threshold
    return replace(args, n_timesteps=n_timesteps, threshold=None if threshold is None else float(threshold))


def _display_path(path: str) -> str:
    """A config's path as a reader can find it: relative to the working directory or to site-packages."""
    resolved = Path(path).resolve()
    parts = resolved.parts
    if "site-packages" in parts:
        return str(Path(*parts[parts.index("site-packages") + 1 :]))
    return str(resolved.relative_to(Path.cwd())) if resolved.is_relative_to(Path.cwd()) else str(resolved)


def command_line(args: CompareArgs) -> str:
    """:return: The ``sb3-reinforce compare`` command that reproduces ``args``, every flag spelt out."""
    words = ["sb3-reinforce", "compare"]
    for spec in fields(args):
        value = getattr(args, spec.name)
        if spec.name == "shard" and value is None:  # the whole comparison: written by the command without --shard
            continue
        if spec.name == "time_budget" and value is None:  # equal steps: the command as it was before the flag
            continue
        if spec.name == "algo_configs" and not value:  # rl_zoo3's own files, as before the flag
            continue
        flag = "--" + spec.name.replace("_", "-")
        if isinstance(value, bool):
            words.append(flag if value else f"--no-{flag[2:]}")
        elif isinstance(value, list):
            words += [flag, *map(str, value)]
        else:
            words += [flag, str(value)]
    return shlex.join(words)


# ---------------------------------------------------------------------------------------------------
# One run (in its own process)
# ---------------------------------------------------------------------------------------------------


class EvalCurveCallback(BaseCallback):
    """
    Evaluate the policy every ``eval_freq`` env steps, at step 0 and at the end of training, and keep the curve.

    Like SB3's EvalCallback (whose VecNormalize handling it copies: the eval env's statistics are synced from the
    training env and frozen), but the frequency counts env steps over all envs, and the clock excludes the time
    spent evaluating, so the wall-clock curve measures training alone. The step-0 evaluation gives every curve a
    common start (the untrained policy); the last one is of the final policy, after the last update.

    With ``time_budget``, the same clock ends training: at the end of the first rollout whose clock reads at least
    ``time_budget``, the budget is marked spent; that rollout's update still runs (SB3's ``learn()`` calls ``train()``
    after ``on_rollout_end``), and the next ``on_step`` returns False, which makes ``collect_rollouts`` return False
    and ``learn()`` stop before another update. So a run stops at the first update after its time is spent, one env
    step (of every env stepped) into the next rollout; REINFORCE keeps that unfinished batch without training on it.
    Changing the model's ``_total_timesteps`` would not do: ``learn()`` loops on its own local copy.

    :param eval_env: The evaluation env, built as the training env (rl_zoo3's ``create_envs(eval_env=True)``)
    :param eval_freq: Env steps between evaluations; <= 0: only at step 0 and at the end
    :param n_eval_episodes: Episodes per evaluation
    :param final_eval_episodes: Episodes of the evaluation at the end of training (default: ``n_eval_episodes``)
    :param deterministic: Whether the evaluation acts deterministically
    :param time_budget: Seconds of training (evaluations excluded) after which training stops at the next update;
        None: no limit but ``learn()``'s steps
    """

    def __init__(
        self,
        eval_env: VecEnv,
        eval_freq: int,
        n_eval_episodes: int,
        deterministic: bool = True,
        final_eval_episodes: int | None = None,
        time_budget: float | None = None,
    ):
        super().__init__()
        self.eval_env = eval_env
        self.eval_freq = eval_freq
        self.n_eval_episodes = n_eval_episodes
        self.final_eval_episodes = final_eval_episodes or n_eval_episodes
        self.deterministic = deterministic
        # (env steps, seconds of training, eval mean, eval std)
        self.curve: list[tuple[int, float, float, float]] = []
        self._start = 0.0
        self._eval_seconds = 0.0
        self._next_eval = 0
        self._ended = False
        self.time_budget = time_budget
        # (env steps, seconds of training) at the end of the rollout that found the budget spent, and at the end of
        # the rollout before it (0, 0.0 if none): the run's record that it stopped at the first update after the time
        self.budget_spent_at: tuple[int, float] | None = None
        self.rollout_end_before: tuple[int, float] = (0, 0.0)

    def training_seconds(self, now: float | None = None) -> float:
        """:return: Seconds since training started, evaluations excluded (at ``now``, a ``time.perf_counter()``)"""
        return (time.perf_counter() if now is None else now) - self._start - self._eval_seconds

    def _evaluate(self, n_episodes: int | None = None) -> None:
        began = time.perf_counter()
        # The step-0 evaluation comes before any training: its clock is 0, not the microseconds since _start
        seconds = self.training_seconds(began) if self.curve else 0.0
        if self.model.get_vec_normalize_env() is not None:
            sync_envs_normalization(self.training_env, self.eval_env)
        mean, std = evaluate_policy(
            self.model,
            self.eval_env,
            n_eval_episodes=n_episodes or self.n_eval_episodes,
            deterministic=self.deterministic,
            warn=False,
        )
        self.curve.append((self.model.num_timesteps, seconds, float(mean), float(std)))  # type: ignore[arg-type]
        self._eval_seconds += time.perf_counter() - began

    def _on_training_start(self) -> None:
        self._start = time.perf_counter()
        self._eval_seconds = 0.0
        self._evaluate()  # step 0: every curve starts from the untrained policy
        self._next_eval = self.eval_freq

    def _on_rollout_end(self) -> None:
        if self.time_budget is None or self.budget_spent_at is not None:
            return
        seconds = self.training_seconds()
        if seconds >= self.time_budget:
            self.budget_spent_at = (self.model.num_timesteps, seconds)  # this rollout's update runs, then _on_step stops
        else:
            self.rollout_end_before = (self.model.num_timesteps, seconds)

    def _on_step(self) -> bool:
        if self.budget_spent_at is not None:
            return False  # the first step after the update that followed the spent budget: learn() stops here
        if self.eval_freq > 0 and self.model.num_timesteps >= self._next_eval:
            self._evaluate()
            while self._next_eval <= self.model.num_timesteps:
                self._next_eval += self.eval_freq
        return True

    def _on_training_end(self) -> None:
        if self._ended:  # rl_zoo3's ExperimentManager.learn calls it a second time
            return
        self._ended = True
        if self.curve[-1][0] == self.model.num_timesteps:
            # Evaluated at this step count during the last rollout, before the last update: the final policy replaces it
            self.curve.pop()
        self._evaluate(self.final_eval_episodes)


def train_run(spec: dict[str, Any]) -> dict[str, Any]:
    """
    Train one (algo, seed) with rl_zoo3's ExperimentManager and evaluate it along the way.

    :param spec: ``algo, env, seed, n_timesteps, time_budget, eval_freq, n_eval_episodes, allow_default, device,
        runs_dir, command``
    :return: The curve and the run's numbers (JSON-serializable). ``stopped_by`` is ``"time"`` if the time budget was
        spent (then ``budget_spent_at`` and ``rollout_end_before`` are ``[env steps, seconds]`` at the end of the
        rollout that found it spent and of the one before), else ``"steps"``
    """
    import torch as th

    from sb3_reinforce.zoo import check_hyperparams, experiment_manager, zoo_entry

    th.set_num_threads(1)  # one core per run: --workers decides how many cores are used
    algo, env_id, seed = spec["algo"], spec["env"], spec["seed"]
    # A clear message for a missing entry, before rl_zoo3 falls back to its 'default' one
    entry, config, key = zoo_entry(algo, env_id, spec["allow_default"], config=spec.get("config"))
    if algo == ALGO:
        check_hyperparams(dict(entry), f"{config}, entry {key!r}")

    exp = experiment_manager(
        algo,
        env_id,
        seed,
        config=config,
        args=argparse.Namespace(**spec),
        log_folder=spec["runs_dir"],
        n_timesteps=spec["n_timesteps"],
        device=spec["device"],
        uuid_str=f"_seed{seed}",
    )
    setup = exp.setup_experiment()  # reads, parses and saves the hyperparameters, builds the envs and the model
    assert setup is not None
    model, _ = setup
    # rl_zoo3 records the command of the process (here the worker's): record the comparison's instead
    (Path(exp.params_path) / "command.txt").write_text(spec["command"])

    callback = EvalCurveCallback(
        exp.create_envs(1, eval_env=True),
        spec["eval_freq"],
        spec["n_eval_episodes"],
        exp.deterministic_eval,
        spec.get("final_eval_episodes"),
        time_budget=spec.get("time_budget"),
    )
    exp.callbacks.append(callback)
    exp.learn(model)
    train_seconds = callback.curve[-1][1]  # the final evaluation's clock: training time, evaluations excluded
    exp.save_trained_model(model)
    return {
        "algo": algo,
        "seed": seed,
        "curve": callback.curve,
        "num_timesteps": model.num_timesteps,
        "train_seconds": train_seconds,
        "fps": model.num_timesteps / train_seconds,
        "time_budget": spec.get("time_budget"),
        "stopped_by": "steps" if callback.budget_spent_at is None else "time",
        "budget_spent_at": callback.budget_spent_at,
        "rollout_end_before": callback.rollout_end_before if callback.budget_spent_at is not None else None,
        "config": config,
        "entry": key,
        "entry_value": entry,
        "spec": {name: spec.get(name) for name in RUN_IDENTITY},
        "run_dir": exp.save_path,
        # Where and by which command it ran: runs of one comparison may come from several machines (--shard)
        "host": socket.gethostname(),
        "machine": machine(),
        "command": spec["command"],
    }


def machine() -> str:
    """
    The machine a run trained on, to tell apart runs whose seconds and fps cannot be compared: every machine here is
    named ``vm``, so the host name does not. ``/etc/machine-id`` is written once per installed system (systemd), so two
    machines built from one image differ in it; the CPU model and the core count make it readable.

    :return: ``"<first 8 hex digits of the machine id> <CPU model>, <n> cores"``
    """
    machine_id = "unknown"
    with contextlib.suppress(OSError):
        machine_id = Path("/etc/machine-id").read_text().strip()[:8] or machine_id
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{machine_id} {cpu}, {os.cpu_count()} cores"


def _worker_main(spec_path: str) -> None:
    """Entry point of a run's process: read the spec, train, write the result (or the error) as JSON."""
    spec = json.loads(Path(spec_path).read_text())
    try:
        result = train_run(spec)
    except Exception as error:
        traceback.print_exc()
        result = {"algo": spec["algo"], "seed": spec["seed"], "error": f"{type(error).__name__}: {error}"}
    with replacing(Path(spec["result_path"])) as path:
        path.write_text(json.dumps(result))
    sys.exit(1 if "error" in result else 0)


# ---------------------------------------------------------------------------------------------------
# Files that several processes share: atomic writes and one lock per run
# ---------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """
    Write a file atomically: the caller writes the temporary path this yields (beside ``path``, with its suffix, so
    that matplotlib picks the format), which then replaces ``path`` in one rename (``os.replace``, atomic within one
    file system, NFS included). A reader, another shard or the final comparison, sees the old file or the new one,
    never half of one. If writing fails, the temporary file is removed and ``path`` is left as it was.

    :param path: The file to write
    """
    temporary = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:12]}.tmp{path.suffix}")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


@contextlib.contextmanager
def run_lock(path: Path, what: str) -> Iterator[int | None]:
    """
    Hold an exclusive lock on ``path`` for the duration, after waiting for any other process that holds it.

    The lock is ``flock``'s: the kernel (or the NFS server) releases it when every process holding it has ended,
    killed ones included, so a killed shard leaves no stale lock behind. The yielded descriptor is passed on to the
    run's process, which keeps the lock held if only its parent is killed. On a file system without ``flock`` the run
    goes on unlocked, with a warning (processes must then be given disjoint ``--shard`` slices).

    :param path: The lock file (created if missing, never removed: removing it would let two processes lock two files)
    :param what: The run, for the message printed while waiting
    :return: The locked file's descriptor, or None without a lock
    """
    import fcntl

    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"{what}: another process is training it, waiting for it to end ({path})", file=sys.stderr, flush=True)
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        except OSError as error:  # ENOLCK, EOPNOTSUPP: a file system without flock
            warnings.warn(f"cannot lock {path} ({error}): {what} runs unlocked")
            yield None
            return
        yield descriptor
    finally:
        os.close(descriptor)


# ---------------------------------------------------------------------------------------------------
# Orchestration: one process per run, --workers at a time
# ---------------------------------------------------------------------------------------------------


@dataclass
class CompareResult:
    """What a comparison produced."""

    args: CompareArgs
    """The arguments with the defaults filled in"""
    runs: list[dict[str, Any]]
    """Results of the runs that finished (see train_run)"""
    failures: list[dict[str, Any]]
    """``algo, seed, error`` of the runs that did not"""
    out_dir: Path
    """<out-dir>/<env>"""
    reused: int = 0
    """How many of ``runs`` were not trained by this call: finished earlier, or by another process (``--shard``)"""


# What makes two runs the same run: a result file with these values (and the same YAML entry) is reused
# (a result without time_budget, from before --time-budget, was trained without one: .get gives None, as for a new one)
RUN_IDENTITY = (
    "algo",
    "env",
    "seed",
    "n_timesteps",
    "time_budget",
    "eval_freq",
    "n_eval_episodes",
    "final_eval_episodes",
    "device",
)


def _finished_result(spec: dict[str, Any]) -> dict[str, Any] | None:
    """:return: The result of a run that already finished with this spec and YAML entry, if its file is there"""
    try:
        result = json.loads(Path(spec["result_path"]).read_text())
    except (OSError, ValueError):
        return None
    same = all(result.get("spec", {}).get(key) == spec.get(key) for key in RUN_IDENTITY)
    return result if same and "error" not in result and result.get("entry_value") == spec["entry_value"] else None


def _launch(spec: dict[str, Any], resume: bool = True) -> tuple[dict[str, Any], bool]:
    """
    Train one run in a new Python process (a crash or an exception there costs that run only), under the run's lock:
    a run that another process is training is waited for, then reused if it finished.

    :return: The result, and whether it was reused rather than trained here
    """
    stem = Path(spec["result_path"]).with_suffix("")
    with run_lock(stem.with_suffix(".lock"), f"{spec['algo']} seed {spec['seed']}") as lock:
        if resume and (finished := _finished_result(spec)) is not None:
            return finished, True
        spec_path = stem.with_suffix(".spec.json")
        with replacing(spec_path) as path:
            path.write_text(json.dumps(spec))
        Path(spec["result_path"]).unlink(missing_ok=True)
        env = dict(os.environ)
        # One thread per run, and the package importable even when it is not installed
        env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[1]), env.get("PYTHONPATH")]))
        log_path = stem.with_suffix(".log")
        with open(log_path, "w") as log:
            process = subprocess.run(
                [sys.executable, "-m", "sb3_reinforce.compare", str(spec_path)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                pass_fds=() if lock is None else (lock,),  # the run keeps its lock if this process is killed
            )
        try:
            return json.loads(Path(spec["result_path"]).read_text()), False
        except (OSError, ValueError):
            error = f"the process exited with code {process.returncode} without a result (see {log_path})"
            return {"algo": spec["algo"], "seed": spec["seed"], "error": error}, False


def compare(args: CompareArgs) -> CompareResult:
    """
    Run every (algo, seed), then write ``curves.csv``, ``summary.md`` and ``curves.png`` under
    ``<out-dir>/<env>/``. A failed run is reported in the summary and on stderr; the others still count.
    With ``args.shard``, run only that slice of the runs (:func:`shard_runs`) and write no table or plot.

    :param args: The parsed flags
    :return: The runs (of the slice), the failures and where the files are
    """
    from tqdm import tqdm

    from sb3_reinforce.plots import plot_curves

    args = resolve_args(args)
    if args.workers < 1:
        raise ValueError(f"--workers must be >= 1, got {args.workers}")
    out_dir = Path(args.out_dir) / args.env
    runs_dir = out_dir / "runs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    command = command_line(args)
    from sb3_reinforce.zoo import zoo_entry

    configs = {algo: _config_of(args, algo) for algo in args.algos}
    entries: dict[str, Any] = {}
    for algo in args.algos:
        with contextlib.suppress(ValueError):  # no entry: that run fails and says why, the others go on
            entries[algo] = zoo_entry(algo, args.env, args.allow_default, config=configs[algo])[0]
    specs = [
        {
            "algo": algo,
            "env": args.env,
            "seed": seed,
            "n_timesteps": args.n_timesteps,
            "time_budget": args.time_budget,
            "eval_freq": args.eval_freq,
            "n_eval_episodes": args.n_eval_episodes,
            "final_eval_episodes": args.final_eval_episodes,
            "allow_default": args.allow_default,
            "device": args.device,
            "config": configs[algo],
            "entry_value": entries.get(algo),
            "runs_dir": str(runs_dir),
            "result_path": str(runs_dir / f"{algo}_seed{seed}.json"),
            "command": command,
        }
        for seed in args.seeds
        for algo in args.algos  # seeds outermost: an interrupted comparison has every algo on its first seeds
    ]
    if args.shard is not None:
        specs = shard_runs(specs, args.algos, args.seeds, lambda spec: (spec["algo"], spec["seed"]), args.shard)

    runs, failures, reused = [], [], 0
    with (
        ThreadPoolExecutor(max_workers=args.workers) as pool,
        tqdm(total=len(specs), desc=f"compare on {args.env}" + (f", shard {args.shard}" if args.shard else ""), unit="run")
        as progress,
    ):  # fmt: skip
        futures = [pool.submit(_launch, spec, args.resume) for spec in specs]
        for future in as_completed(futures):
            result, was_reused = future.result()
            if "error" in result:
                failures.append(result)
                progress.write(f"FAILED {result['algo']} seed {result['seed']}: {result['error']}", file=sys.stderr)
            else:
                runs.append(result)
                reused += was_reused
            progress.set_postfix(failed=len(failures))
            progress.update()
    order = {algo: i for i, algo in enumerate(args.algos)}
    runs.sort(key=lambda run: (order[run["algo"]], run["seed"]))
    failures.sort(key=lambda run: (order[run["algo"]], run["seed"]))
    compared = CompareResult(args=args, runs=runs, failures=failures, out_dir=out_dir, reused=reused)
    if args.shard is not None:  # a slice: the command without --shard writes the tables, once every slice is done
        return compared

    with replacing(out_dir / "curves.csv") as path:
        write_curves_csv(runs, path)
    with replacing(out_dir / "summary.md") as path:
        path.write_text(summary_markdown(args, runs, failures))
    if runs:
        with replacing(out_dir / "curves.png") as path:
            plot_curves(runs, args.algos, path, threshold=args.threshold, title=f"{args.env}, {budget_phrase(args)}")
    return compared


def run_compare(args: CompareArgs) -> None:
    """The ``sb3-reinforce compare`` command: exits with status 1 if a run failed (after writing the results)."""
    try:
        result = compare(args)
    except ValueError as error:
        raise SystemExit(f"sb3-reinforce compare: error: {error}") from error
    if args.shard is not None:
        n_runs = len(result.runs) + len(result.failures)
        print(
            f"shard {args.shard}: {n_runs} run(s) in {result.out_dir / 'runs'} ({len(result.runs) - result.reused} trained, "
            f"{result.reused} reused, {len(result.failures)} failed). Once every shard has ended, the same command "
            "without --shard writes summary.md, curves.csv and curves.png"
        )
    else:
        print(f"wrote {result.out_dir / 'summary.md'}, curves.csv and curves.png")
    if result.failures:
        where = "summary.md" if args.shard is None else f"each run's log, {result.out_dir / 'runs'}/<algo>_seed<seed>.log"
        raise SystemExit(f"{len(result.failures)} of {len(result.failures) + len(result.runs)} runs failed (see {where})")


# ---------------------------------------------------------------------------------------------------
# Outputs
# ---------------------------------------------------------------------------------------------------


def budget_phrase(args: CompareArgs) -> str:
    """:return: The budget every run was given, in a few words (summary.md and the plot's title)"""
    if args.time_budget is None:
        return f"{args.n_timesteps:,} env steps per run"
    return f"{args.time_budget:g} s of training per run"


def steps_within_time_budget(args: CompareArgs, runs: list[dict[str, Any]]) -> list[str]:
    """:return: summary.md's list, per algo, of the median env steps its runs reached and what stopped them"""
    lines = ["Env steps reached within the time budget (median over seeds):", ""]
    for algo in args.algos:
        algo_runs = [run for run in runs if run["algo"] == algo]
        if not algo_runs:
            continue
        steps = statistics.median(run["curve"][-1][0] for run in algo_runs)  # the final evaluation's: num_timesteps
        by_time = sum(run.get("stopped_by") == "time" for run in algo_runs)
        lines.append(
            f"- {algo}: {steps:,.0f} env steps ({by_time} run(s) stopped by time, {len(algo_runs) - by_time} at the step cap)"
        )
    return lines


def budget_notes(args: CompareArgs, runs: list[dict[str, Any]]) -> list[str]:
    """
    The budget policy, said in summary.md: every algo runs ``args.n_timesteps`` steps (or ``args.time_budget``
    seconds, capped at ``args.n_timesteps`` steps, with :func:`steps_within_time_budget`), and rl_zoo3 anneals ``lin_``
    schedules over the steps it is given. An algo whose zoo budget differs, and whose entry has a schedule, did not
    run its zoo configuration: its schedule ended elsewhere. Each such algo is named.
    """
    if args.time_budget is None:
        lines = [f"Budget: every algo runs {args.n_timesteps:,} env steps (the same for all, so the curves share an x axis)."]
    else:
        by_time = sum(run.get("stopped_by") == "time" for run in runs)
        lines = [
            f"Budget: every algo trains {args.time_budget:g} s per run, evaluations excluded (the same for all, so the "
            "wall-clock curves share an x axis). A run stops at the first update after its time is spent, so it trains "
            f"longer by at most one rollout and its update; it also stops at {args.n_timesteps:,} env steps if it gets "
            f"there first. {by_time} of {len(runs)} run(s) stopped by time, {len(runs) - by_time} at the step cap. "
            f"rl_zoo3 anneals lin_ schedules over the {args.n_timesteps:,}-step cap, so a run stopped by time ends "
            f"partway through them. Seconds compare runs of one machine and one comparison only: these ran "
            f"{args.workers} at a time, one per core."
        ]
    for algo in args.algos:
        entry = next((run.get("entry_value") for run in runs if run["algo"] == algo and run.get("entry_value")), None)
        if not entry or "n_timesteps" not in entry:
            continue
        zoo_budget = int(float(entry["n_timesteps"]))
        schedules = sorted(key for key, value in entry.items() if isinstance(value, str) and value.startswith("lin_"))
        if zoo_budget == args.n_timesteps:
            continue
        if schedules:
            lines.append(
                f"- {algo}: its zoo budget is {zoo_budget:,} steps and its schedules ({', '.join(schedules)}) anneal over "
                f"the budget, so at {args.n_timesteps:,} steps this is not the zoo's configuration: its schedules end "
                "at this budget instead."
            )
        else:
            lines.append(f"- {algo}: its zoo budget is {zoo_budget:,} steps (no schedule, so only the length differs).")
    if args.time_budget is not None:
        lines += ["", *steps_within_time_budget(args, runs)]
    return lines


def summary_markdown(args: CompareArgs, runs: list[dict[str, Any]], failures: list[dict[str, Any]]) -> str:
    """:return: summary.md: the command, one row per algo, the failures, and how to read the numbers"""
    n_seeds = len(args.seeds)
    threshold = args.threshold
    lines = [
        f"# {args.env}: {' vs '.join(args.algos)}",
        "",
        "Produced by:",
        "",
        f"    {command_line(args)}",
        "",
        f"{budget_phrase(args)}"
        f"{'' if args.time_budget is None else f' (at most {args.n_timesteps:,} env steps)'}, "
        f"{n_seeds} seed{'s' if n_seeds != 1 else ''} "
        f"({' '.join(map(str, args.seeds))}); deterministic evaluation over {args.n_eval_episodes} episodes at step 0, "
        f"every {args.eval_freq:,} env steps and at the end of training"
        f"{f' (over {args.final_eval_episodes} episodes)' if args.final_eval_episodes else ''}. "
        f"{args.workers} run(s) at a time.",
        "",
    ]
    # The machine where a run recorded it, else its host name (runs from before machine() was recorded)
    hosts = sorted({run.get("machine") or run["host"] for run in runs if run.get("machine") or run.get("host")})
    commands = {run["command"] for run in runs if run.get("command")}
    if len(hosts) > 1 or len(commands) > 1:
        lines += [
            f"The runs come from {len(commands)} commands (shards, or earlier runs reused) on {len(hosts)} host(s) "
            f"({', '.join(hosts)}): each run's seconds and fps were measured on its own machine under its own load, "
            "and each run's command is in its rl_zoo3 folder (`command.txt`)."
            + (
                " Their time budgets are not comparable: the same seconds buy different steps on different machines."
                if args.time_budget is not None and len(hosts) > 1
                else ""
            ),
            "",
        ]
    elif all(run.get("machine") for run in runs) and hosts:
        lines += [f"Every run trained on one machine: {hosts[0]}.", ""]
    lines.append(report.compare_table(report.curves_of_runs(runs), threshold, algos=args.algos, n_seeds=n_seeds))
    configs = []
    for algo in args.algos:
        algo_run = next((run for run in runs if run["algo"] == algo), None)
        if algo_run is not None:
            configs.append(f"- {algo}: `{_display_path(algo_run['config'])}`, entry `{algo_run['entry']}`")
    lines += ["", "Hyperparameters (each run's parsed copy is in its rl_zoo3 folder under runs/, `config.yml`):", "", *configs]
    lines += ["", *budget_notes(args, runs)]
    if failures:
        lines += ["", "## Failed runs", "", "| algo | seed | error |", "|---|---|---|"]
        lines += [f"| {f['algo']} | {f['seed']} | {f['error'].replace('|', '/')} |" for f in failures]
        lines += ["", "Each run's log is `runs/<algo>_seed<seed>.log`."]
    lines += [
        "",
        "## How to read it",
        "",
        "- *final eval*: each seed's last evaluation, at the end of training; mean ± sample std (ddof=1) over seeds "
        "(the value alone for one seed).",
        "- *IQM*: interquartile mean of the seeds' final evals (the mean of the middle half, floor(n/4) dropped at each "
        "end; the plain mean below 4 seeds), with a 95% percentile bootstrap CI over seeds (10,000 resamples, RNG seed 0). "
        "With few seeds the interval only describes the runs at hand.",
    ]
    if threshold is not None:
        lines.append(
            f"- *to {threshold:g}*: a seed gets there at its first evaluation whose mean is >= {threshold:g} (env steps, "
            "or seconds of training with evaluation time excluded). Median over all seeds, counting a seed that never "
            "got there as infinitely slow: *never* when fewer than half got there. (k/n): how many seeds got there."
        )
    else:
        lines.append(f"- No threshold: {args.env}'s gymnasium spec has no reward_threshold (set one with --threshold).")
    lines += [
        f"- *fps*: env steps per second of training (evaluations excluded), median over seeds, with {args.workers} "
        "run(s) sharing the machine.",
        "- curves.png: mean over seeds with a 95% percentile bootstrap CI of the mean, each seed's evaluations "
        "linearly interpolated onto common points up to the shortest run.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m sb3_reinforce.compare RUN.json (one run of `sb3-reinforce compare`)")
    _worker_main(sys.argv[1])
