"""
Every published table's runs, on report seeds (``benchmarks/seeds.py``): one command regenerates them all.

    python benchmarks/report.py                      # every report below, one run at a time (resumes)
    python benchmarks/report.py --only 'mujoco-*'    # the reports whose name matches a pattern
    python benchmarks/report.py --list               # the reports, how many of their runs landed, their commands

Each report is one ``sb3-reinforce compare`` command (or a benchmark script) whose result files land under
``docs/results/report/``; both skip a run whose result file exists, so an interrupted report continues where it
stopped and a finished one costs nothing. ``docs/tables.py`` renders README.md and docs/ from those files.

Equal time (docs/mujoco.md): an ``equal-time-*`` report gives REINFORCE and A2C the training seconds that PPO's entry
needed for its 1M steps in the matching ``mujoco-v4-*`` comparison (the median over its seeds, read from its result
files; ``Report.equal_time``), so it runs after that comparison; until those runs have all landed it says so and runs
nothing.

Which seeds: 10 report seeds (1000-1009) for the classic-control envs, 5 (1000-1004) for every other env, the same
seeds for every algorithm of a comparison. Tuning never used them (it uses 0-99, ``benchmarks/trials.sh``).
"""

import fnmatch
import json
import shlex
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import tyro

from sb3_reinforce.compare import machine

sys.path.insert(0, str(Path(__file__).parent))
from seeds import check_seeds, report_seeds

ROOT = Path(__file__).resolve().parents[1]
SB3_REINFORCE = str(Path(sys.executable).parent / "sb3-reinforce")  # the one installed beside this python
COMPARE_DIR = "docs/results/report/compare"  # REINFORCE against PPO and A2C, each with its zoo entry
ENTRIES_DIR = "docs/results/report/entries"  # REINFORCE's entries at their own budget
FRAMESTACK_DIR = "docs/results/report/framestack"  # REINFORCE with an MLP on stacked frames, the LSTM's alternative
FRAMESTACK_CONFIG = "benchmarks/framestack.yml"
EQUAL_TIME_DIR = "docs/results/report/equal-time"  # REINFORCE and A2C given PPO's training time for 1M steps
EQUAL_TIME_MARGIN = 1.25  # the steps cap of an equal-time run over what REINFORCE trains in the time (Report.equal_time)
CLASSIC = report_seeds(10)
OTHER = report_seeds(5)
MUJOCO_V5 = (
    "InvertedPendulum-v5",
    "InvertedDoublePendulum-v5",
    "Reacher-v5",
    "Swimmer-v5",
    "Hopper-v5",
    "HalfCheetah-v5",
    "Walker2d-v5",
    "Ant-v5",
    "Humanoid-v5",
)


def run_file(directory: str, algo: str, seed: int) -> Path:
    """:return: The result file ``sb3-reinforce compare`` writes for one run of the comparison in ``directory``"""
    return ROOT / directory / "runs" / f"{algo}_seed{seed}.json"


class OtherMachineError(ValueError):
    """An equal-time report's budget was measured on another machine (``Report.equal_time``)"""


@dataclass(frozen=True)
class Report:
    name: str
    env: str
    seeds: list[int]
    out_dir: str
    algos: tuple[str, ...] = ("reinforce",)
    n_timesteps: int | None = None  # None: the entry's budget
    eval_freq: int = 100_000
    n_eval_episodes: int = 5
    final_eval_episodes: int = 10
    config: str | None = None  # REINFORCE's YAML (None: zoo_configs/reinforce.yml)
    threshold: float | None = None  # None: the env spec's reward_threshold
    time_budget_from: str | None = None  # a comparison directory: train for its PPO runs' median seconds (equal time)

    def equal_time(self) -> tuple[float, int] | None:
        """
        The budget of an equal-time report, from the 1M-step comparison in ``time_budget_from``, one run per seed of
        this report: the median ``train_seconds`` of PPO's runs, and as the cap on the steps EQUAL_TIME_MARGIN times
        the steps REINFORCE makes in those seconds at the median training fps of its runs there. rl_zoo3 anneals
        REINFORCE's ``lin_`` schedule over the cap, so when the time runs out its learning rate is near 0, about as at
        the end of its entry's 1M steps, while the margin keeps a run that trains faster than its median from
        stopping at the cap before the time is spent. A2C's entries train at a fixed rate, at fewer steps per second.

        Seconds buy different steps on different machines, so the budget holds only on the machine its runs trained on
        (``sb3_reinforce.compare.machine``): the comparison and the equal-time report run on one machine, as one
        session's work.

        :return: ``(seconds, steps cap)`` (None: an equal-steps report)
        :raise FileNotFoundError: naming the runs that have not landed yet
        :raise OtherMachineError: when those runs did not all train on this machine
        """
        if self.time_budget_from is None:
            return None
        runs = {
            (algo, seed): run_file(self.time_budget_from, algo, seed) for algo in ("ppo", "reinforce") for seed in self.seeds
        }
        missing = [f"{algo}_seed{seed}" for (algo, seed), path in runs.items() if not path.exists()]
        if missing:
            raise FileNotFoundError(
                f"{self.name} takes its budget from PPO's and REINFORCE's runs in {self.time_budget_from}, and "
                f"{len(missing)} of {len(runs)} have not landed ({', '.join(missing)})"
            )
        results = {key: json.loads(path.read_text()) for key, path in runs.items()}
        here = machine()
        elsewhere = sorted(
            f"{algo}_seed{seed} ({run.get('machine', 'a machine it did not record')})"
            for (algo, seed), run in results.items()
            if run.get("machine") != here
        )
        if elsewhere:
            raise OtherMachineError(
                f"{self.name} takes its budget from the training seconds of the runs in {self.time_budget_from}, and "
                f"{len(elsewhere)} of {len(runs)} did not train on this machine ({here}): {', '.join(elsewhere)}. "
                f"Seconds are not comparable across machines: delete those runs and run the comparison again here"
            )
        seconds = statistics.median(run["train_seconds"] for (algo, _), run in results.items() if algo == "ppo")
        fps = statistics.median(run["fps"] for (algo, _), run in results.items() if algo == "reinforce")
        return seconds, int(EQUAL_TIME_MARGIN * seconds * fps)

    def landed(self) -> tuple[int, int]:
        """:return: How many of this report's runs have a result file without an error, and how many it has"""
        runs = [run_file(f"{self.out_dir}/{self.env}", algo, seed) for algo in self.algos for seed in self.seeds]
        done = sum(path.is_file() and "error" not in json.loads(path.read_text()) for path in runs)
        return done, len(runs)

    def command(self, workers: int) -> list[str]:
        command = [SB3_REINFORCE, "compare", "--env", self.env, "--algos", *self.algos]
        command += ["--seeds", *map(str, check_seeds("report", self.seeds))]
        equal_time = self.equal_time()
        n_timesteps = self.n_timesteps if equal_time is None else equal_time[1]
        if n_timesteps is not None:
            command += ["--n-timesteps", str(n_timesteps)]
        command += ["--eval-freq", str(self.eval_freq), "--n-eval-episodes", str(self.n_eval_episodes)]
        command += ["--final-eval-episodes", str(self.final_eval_episodes), "--workers", str(workers)]
        if self.config is not None:
            command += ["--config", self.config]
        if self.threshold is not None:
            command += ["--threshold", f"{self.threshold:g}"]
        if equal_time is not None:
            command += ["--time-budget", f"{equal_time[0]:.1f}"]
        return [*command, "--out-dir", self.out_dir]


@dataclass(frozen=True)
class Script:
    """A report that a benchmark script of its own runs (resumable in the same way, one result file per run)"""

    name: str
    script: str
    args: tuple[str, ...]
    seeds: list[int]

    def command(self, workers: int) -> list[str]:
        del workers  # the script runs one run at a time
        return [sys.executable, self.script, *self.args, "--seeds", *map(str, check_seeds("report", self.seeds))]


ALGOS = ("reinforce", "ppo", "a2c")
# CartPoleNoVel-v1 as CartPole-v1's report: 100k steps, an evaluation every 2k, 100 final episodes, 475 counted solved
CARTPOLE_NOVEL: dict = dict(n_timesteps=100_000, eval_freq=2_000, final_eval_episodes=100, threshold=475)
MUJOCO_V4 = ("Hopper-v4", "HalfCheetah-v4", "Walker2d-v4")


def _short(env: str) -> str:
    """:return: The env's name in a report's name: ``Hopper-v4`` -> ``hopper``"""
    return env.split("-")[0].lower()


REPORTS: list[Report | Script] = [
    # Classic control against PPO and A2C: steps to the threshold at fine resolution, and the final policy
    Report("cartpole", "CartPole-v1", CLASSIC, COMPARE_DIR, ALGOS, 100_000, 2_000, 5, 100),
    Report("acrobot", "Acrobot-v1", CLASSIC, COMPARE_DIR, ALGOS, 300_000, 5_000, 10, 100),
    Report("pendulum", "Pendulum-v1", CLASSIC, ENTRIES_DIR, n_eval_episodes=10, final_eval_episodes=100),
    # LunarLander: the 1M comparison, where PPO leads, and REINFORCE's entry at its own 3M budget
    Report("lunarlander-1m", "LunarLander-v3", OTHER, COMPARE_DIR, ALGOS, 1_000_000, 50_000, 10, 100),
    Report("lunarlander", "LunarLander-v3", OTHER, ENTRIES_DIR, ALGOS[:1], None, 250_000, 10, 100),
    # MuJoCo v5: every entry at its 1M budget
    *(Report(f"mujoco-{_short(env)}", env, OTHER, ENTRIES_DIR) for env in MUJOCO_V5),
    # MuJoCo v4 (the ids of rl_zoo3's PPO and A2C entries) against PPO and A2C
    *(Report(f"mujoco-v4-{_short(env)}", env, OTHER, COMPARE_DIR, ALGOS, 1_000_000, 50_000) for env in MUJOCO_V4),
    # ... and at equal time: REINFORCE and A2C get the median seconds PPO's runs above took for their 1M steps
    *(
        Report(
            f"equal-time-{_short(env)}",
            env,
            OTHER,
            EQUAL_TIME_DIR,
            ("reinforce", "a2c"),
            None,
            250_000,
            time_budget_from=f"{COMPARE_DIR}/{env}",
        )
        for env in MUJOCO_V4
    ),
    # The class defaults against PPO's and A2C's on the development suite (docs/defaults.md)
    Script("defaults-suite", "benchmarks/defaults_suite.py", ("--report",), report_seeds(3)),
    # Memory (docs/recurrent.md): the LSTM entry against RecurrentPPO's, and against an MLP on 4 stacked frames. The
    # velocity-masked envs have no reward_threshold: their full-state env's is used
    Report("recurrent-cartpole", "CartPoleNoVel-v1", CLASSIC, COMPARE_DIR, ("reinforce", "ppo_lstm"), **CARTPOLE_NOVEL),
    Report("framestack-cartpole", "CartPoleNoVel-v1", CLASSIC, FRAMESTACK_DIR, config=FRAMESTACK_CONFIG, **CARTPOLE_NOVEL),
]


@dataclass
class Args:
    only: str = "*"
    """Run only the reports whose name matches this shell pattern (e.g. 'mujoco-*')"""
    workers: int = 1
    """Runs at the same time (each on its own core; the fps columns assume one run per core)"""
    list: bool = False
    """Print the reports and their commands, and run nothing"""


def main(args: Args) -> None:
    chosen = [report for report in REPORTS if fnmatch.fnmatch(report.name, args.only)]
    if not chosen:
        raise SystemExit(f"--only {args.only!r} matches no report; --list shows them")
    failed = []
    for report in chosen:
        try:
            command = report.command(args.workers)
        except FileNotFoundError as error:  # an equal-time report whose PPO runs have not landed
            print(f"# {report.name}: not yet: {error}", flush=True)
            continue
        except OtherMachineError as error:  # ... or landed on another machine
            print(f"# {report.name}: not on this machine: {error}", flush=True)
            failed.append(report.name)
            continue
        progress = "" if isinstance(report, Script) else " ({} of {} runs landed)".format(*report.landed())
        print(f"# {report.name}{progress}: {shlex.join(command)}", flush=True)
        if args.list:
            continue
        if subprocess.run(command, cwd=ROOT).returncode != 0:
            failed.append(report.name)
    if failed:
        raise SystemExit(f"reports with failed runs: {failed}")


if __name__ == "__main__":
    main(tyro.cli(Args))
