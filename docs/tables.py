"""
Regenerate every results table in README.md and docs/*.md from the committed result files, so that no number is
typed by hand. A table lives between two markers that say where its numbers come from:

    <!-- table: compare docs/results/CartPole-v1 475 -->
    ...generated...
    <!-- /table -->

Kinds:

- ``compare DIR [THRESHOLD]``: the summary table of an ``sb3-reinforce compare`` run, from ``DIR/curves.csv``
  (the same rows as ``DIR/summary.md``: final eval mean ± sample std, IQM, steps and seconds to the threshold, fps),
  or a line that says the comparison has not run yet;
- ``report DIR [THRESHOLD]``: the published table of a comparison over report seeds (1000 and up; a lower seed is an
  error), from ``DIR/curves.csv``: per algo the seeds, the env steps, the final eval's IQM [95% bootstrap CI], its
  mean ± std and the worst seed, and with THRESHOLD the median and slowest seed's env steps to it;
  Each further ``OTHER=NAME`` adds the runs of the comparison in directory ``OTHER`` (of one algo) as the row ``NAME``,
  e.g. the same algo with another config (a line under the table says when ``OTHER`` has not run yet);
- ``report-envs DIR ENV...``: the same without a threshold, one row per env and algo, from ``DIR/ENV/curves.csv``
  for each ENV (in that order; an env whose comparison has not run says so);
- ``report-runs DIR ENV...``: the same from per-run JSON files ``DIR/ENV/*.json`` (``benchmarks/defaults_suite.py``'s:
  ``setting`` or ``algo``, ``seed``, ``evals``), one row per env and setting;
- ``trial-runs DIR ENV...``: the same table of trial runs, which must all be on trial seeds (0-99): what a setting
  did before any report, on the seeds that chose it;
- ``equal-time STEPS_DIR TIME_DIR``: an equal-time comparison (``sb3-reinforce compare --time-budget``, run by
  ``benchmarks/report.py``'s ``equal-time-*`` reports) in ``TIME_DIR`` beside the comparison at equal env steps in
  ``STEPS_DIR`` whose PPO runs set its budget: each algo at equal time and at equal steps, with training seconds;
- ``targets``: every goal of issues 17, 18 and 21 (``TARGETS``) against the report-seed runs it names: what it
  asks, what the runs reached, and whether that meets it;
- ``sample_efficiency DIR [GLOB]``: steps to the threshold and final evals of ``benchmarks/sample_efficiency.py``
  runs, one row per setting, from the JSON files ``DIR/GLOB``;
- ``json FILE``: a table a benchmark script wrote as JSON (``{"columns": [...], "rows": [[...], ...]}``);
- ``mujoco DIR [V4DIR]``: one row per env of ``DIR/<env>/curves.csv`` beside Tianshou's REINFORCE figures, and
  with ``V4DIR`` each algo's final evals in the comparisons ``V4DIR/<env>-v4/curves.csv`` where they exist;
- ``defaults DIR``: the runs of ``benchmarks/defaults_sweep.py`` in ``DIR``, one row per env and setting;
- ``variance FILE``: ``sb3-reinforce variance``'s ``variance.csv``: each combination's variance relative to
  ``total``/``none`` and its signal-to-noise ratio, at each measured policy;
- ``throughput FILE``: one env's measurements of ``benchmarks/throughput.py`` (medians, ranges and ratios);
- ``memory FILE``: the peak memory of ``benchmarks/throughput.py --memory-steps``.

    python docs/tables.py           # rewrite the tables in place (make docs-tables)
    python docs/tables.py --check   # exit 1 if a table differs from what its files give (CI)

The tables themselves are rendered by ``sb3_reinforce.report``, which ``sb3-reinforce compare`` also uses for its
summary.md: this script only finds the markers, reads the files they name and writes the tables back. Every ± in
these tables is the sample standard deviation (ddof=1) over seeds; a single seed shows its value alone.
"""

import functools
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sb3_reinforce import report

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"(<!-- table: (?P<spec>[^>]*?) -->\n)(?P<body>.*?)(<!-- /table -->)", re.DOTALL)


@functools.cache
def _zoo_entries() -> dict:
    """:return: zoo_configs/reinforce.yml, read once per run of this script"""
    import yaml

    return yaml.safe_load((ROOT / "zoo_configs" / "reinforce.yml").read_text())


def _curves(directory: Path) -> report.Curves | None:
    """:return: The curves of the comparison in ``directory``, None if it has not run"""
    path = directory / "curves.csv"
    return report.read_curves(path) if path.is_file() else None


def _not_run(directory: Path) -> str:
    name = directory.relative_to(ROOT) if directory.is_relative_to(ROOT) else directory
    return f"Not run yet: `{name}/curves.csv` does not exist."


def compare_table(directory: Path, threshold: float | None = None) -> str:
    """:return: The table of the comparison in ``directory``, or a line saying it has not run yet"""
    curves = _curves(directory)
    return _not_run(directory) if curves is None else report.compare_table(curves, threshold)


def report_table(directory: Path, threshold: float | None = None, others: dict[str, Path] | None = None) -> str:
    """
    :param others: Rows to add: name -> directory of another comparison of one algo, shown under that name
    :return: The report-seed table of the comparison in ``directory``, or a line saying it has not run yet
    """
    curves = _curves(directory)
    if curves is None:
        return _not_run(directory)
    missing = []
    for name, other in (others or {}).items():
        other_curves = _curves(other)
        if other_curves is None:
            missing.append(f"\n\nRow {name}: {_not_run(other)}")
            continue
        algos = sorted({algo for algo, _ in other_curves})
        if len(algos) != 1:
            raise ValueError(f"{other}={name}: a row of its own needs a comparison of one algo, got {algos}")
        curves = {**curves, **{(name, seed): runs for (_, seed), runs in other_curves.items()}}
    return report.report_table(curves, threshold) + "".join(missing)


def equal_time_table(*directories: Path) -> str:
    """:return: The table of the equal-time comparison in ``directories[1]`` beside the one at equal steps in
    ``directories[0]``, or a line saying the latter has not run yet"""
    if len(directories) != 2:
        raise ValueError(f"equal-time takes STEPS_DIR TIME_DIR, got {[str(d) for d in directories]}")
    steps = _curves(directories[0])
    return _not_run(directories[0]) if steps is None else report.equal_time_table(steps, _curves(directories[1]))


@dataclass(frozen=True)
class Target:
    """
    A goal an issue set for REINFORCE on report seeds, checked by the ``targets`` table against the runs in
    ``directory`` (a comparison's curves.csv, or with ``runs_glob`` per-run JSON files). A bound that is a string names
    another algo: a float bound is a number the issue gave, an algo's is its figure in ``other`` (default: the same
    runs). Every bound must hold for the target to be met, and only once all ``seeds`` have landed.
    """

    issue: int
    env: str
    directory: str
    budget: str
    seeds: int
    algo: str = "reinforce"
    runs_glob: str | None = None  # per-run JSON files in directory (benchmarks/defaults_suite.py's), not curves.csv
    threshold: float | None = None  # the level of every_seed_by and median_steps
    every_seed_by: float | None = None  # every seed's evaluation reaches threshold by this many env steps
    median_steps: float | str | None = None  # median env steps to threshold at most this (or that algo's)
    every_final: float | None = None  # every seed's final evaluation at least this
    iqm: float | str | None = None  # the final evaluation's IQM at least this (or above that algo's)
    worst: float | None = None  # the worst seed's final evaluation at least this
    other: str | None = None  # where a string bound's algo ran, if not in directory
    ahead: bool = False  # an IQM bound that names an algo: above its IQM (else at least it)


Runs = dict[str, dict[int, np.ndarray]]  # runs by algo, then by seed (report.by_algo)


def _target_curves(target: Target, directory: str) -> Runs | None:
    """:return: The runs of ``directory`` by algo and seed, None if none has landed"""
    if target.runs_glob is not None:
        paths = sorted((ROOT / directory).glob(target.runs_glob))
        curves = report.read_runs(paths) if paths else None
    else:
        curves = _curves(ROOT / directory)
    return None if curves is None else report.by_algo(curves)


def _other_figure(target: Target, runs: Runs | None, algo: str, figure: str) -> float | None:
    """:return: ``algo``'s ``figure`` (an :func:`report.algo_summary` key) in the runs a string bound names (``runs``,
    those of the target's own directory, unless it names ``other``), None if they have not landed"""
    other = runs if target.other is None else _target_curves(target, target.other)
    if not other or algo not in other:
        return None
    return float(report.algo_summary(other[algo], target.threshold)[figure])


def _steps(value: float) -> str:
    """:return: env steps to a threshold as a reached cell says them"""
    return "never there" if not np.isfinite(value) else f"{report.number(value, 0)} steps"


def _against(bound: float | str, value: float | None, digits: int) -> str:
    """:return: What a bound that names another algo was, in the reached cell ("" for a number the issue gave)"""
    if not isinstance(bound, str):
        return ""
    return f" ({bound}: {'not run yet' if value is None else report.number(value, digits)})"


def _criteria(target: Target, runs: Runs | None) -> list[tuple[str, Callable[[dict], tuple[str, bool]]]]:
    """:return: Each bound of ``target``: what it asks, and a function of :func:`report.algo_summary`'s row of its runs
    that says what they reached and whether that meets it (``runs``: those of its directory, by algo)"""
    criteria: list[tuple[str, Callable[[dict], tuple[str, bool]]]] = []
    level = f"{target.threshold:g}" if target.threshold is not None else ""
    if (by := target.every_seed_by) is not None:
        criteria.append((
            f"every seed at {level} by {report.format_steps(by)} steps",
            lambda row: (f"slowest seed {_steps(row['slowest'])}", row["slowest"] <= by),
        ))  # fmt: skip
    if (steps := target.median_steps) is not None:
        value = _other_figure(target, runs, steps, "steps_to_threshold") if isinstance(steps, str) else steps
        criteria.append((
            f"median steps to {level} <= " + (f"{steps}'s" if isinstance(steps, str) else report.number(steps, 0)),
            lambda row: (
                f"median {_steps(row['steps_to_threshold'])}{_against(steps, value, 0)}",
                value is not None and row["steps_to_threshold"] <= value,
            ),
        ))  # fmt: skip
    if (final := target.every_final) is not None:
        criteria.append((
            f"every seed's final eval >= {final:g}",
            lambda row: (f"{int(np.sum(row['finals'] < final))} of {len(row['finals'])} below", min(row["finals"]) >= final),
        ))  # fmt: skip
    if (iqm := target.iqm) is not None:
        value = _other_figure(target, runs, iqm, "iqm") if isinstance(iqm, str) else iqm
        criteria.append((
            f"IQM {'above' if target.ahead else '>='} " + (f"{iqm}'s" if isinstance(iqm, str) else f"{iqm:g}"),
            lambda row: (
                f"IQM {row['iqm']:.1f}{_against(iqm, value, 1)}",
                value is not None and (row["iqm"] > value if target.ahead else row["iqm"] >= value),
            ),
        ))  # fmt: skip
    if (worst := target.worst) is not None:
        criteria.append((
            f"worst seed >= {worst:g}",
            lambda row: (f"worst {row['worst']:.1f} (seed {row['worst_seed']})", row["worst"] >= worst),
        ))  # fmt: skip
    return criteria


def target_row(target: Target) -> list[str]:
    """:return: The ``targets`` table's row of one target: what it asks, what the report seeds reached, and whether
    that meets it (a dash until all its seeds have landed)"""
    runs = _target_curves(target, target.directory)
    own = runs.get(target.algo) if runs else None
    if own is not None and min(own) < report.REPORT_SEEDS_START:
        raise ValueError(f"{target.directory}: a target is checked on report seeds only, but {target.algo} has {sorted(own)}")
    criteria = _criteria(target, runs)
    asked = "; ".join(text for text, _ in criteria)
    if own is None:
        return [str(target.issue), target.env, target.budget, asked, "0", "not run yet", "—"]
    row = report.algo_summary(own, target.threshold)
    results = [check(row) for _, check in criteria]
    verdict = "yes" if all(ok for _, ok in results) else "no"
    if len(row["seeds"]) < target.seeds:
        verdict = f"— ({len(row['seeds'])} of {target.seeds} seeds)"
    seeds = f"{len(row['seeds'])} ({report.seed_list(row['seeds'])})"
    return [str(target.issue), target.env, target.budget, asked, seeds, "; ".join(text for text, _ in results), verdict]


_REPORT = "docs/results/report"
_LOCOMOTION_V4 = ("Hopper-v4", "HalfCheetah-v4", "Walker2d-v4")
# The goals of issues 17 (report seeds), 18 (memory) and 21 (equal time, locomotion), as the issues state them. "Today's
# published mean" of issue 17's other six MuJoCo envs is the mean over the entries' tuning seeds that docs/mujoco.md
# published when the issue was filed (the runs in docs/results/mujoco/).
TARGETS = [
    Target(17, "CartPole-v1", f"{_REPORT}/compare/CartPole-v1", "100k", 10, threshold=475, every_seed_by=50_000,
           median_steps=15_000),
    Target(17, "Acrobot-v1", f"{_REPORT}/compare/Acrobot-v1", "300k", 10, threshold=-100, every_seed_by=100_000,
           median_steps=25_000),
    Target(17, "LunarLander-v3", f"{_REPORT}/entries/LunarLander-v3", "3M", 5, iqm=250, worst=200),
    Target(17, "Pendulum-v1", f"{_REPORT}/entries/Pendulum-v1", "1M", 10, iqm=-200, worst=-300),
    Target(17, "HalfCheetah-v5", f"{_REPORT}/entries/HalfCheetah-v5", "1M", 5, iqm=3000, worst=2500),
    Target(17, "Hopper-v5", f"{_REPORT}/entries/Hopper-v5", "1M", 5, iqm=2000, worst=1200),
    Target(17, "Walker2d-v5", f"{_REPORT}/entries/Walker2d-v5", "1M", 5, iqm=1500),
    *(
        Target(17, env, f"{_REPORT}/entries/{env}", "1M", 5, iqm=published)
        for env, published in (("Swimmer-v5", 276.5), ("Reacher-v5", -5.8), ("InvertedPendulum-v5", 1000.0),
                               ("InvertedDoublePendulum-v5", 9327.2), ("Ant-v5", 1047.3), ("Humanoid-v5", 551.2))
    ),
    *(
        Target(17, f"{env} (class defaults)", f"{_REPORT}/defaults_suite/{env}", budget, 3, "reinforce_defaults",
               runs_glob="*.json", iqm="ppo")
        for env, budget in (("CartPole-v1", "100k"), ("Acrobot-v1", "300k"), ("LunarLanderContinuous-v3", "500k"),
                            ("BipedalWalker-v3", "500k"), ("Hopper-v5", "500k"), ("Walker2d-v5", "500k"))
    ),
    Target(18, "CartPoleNoVel-v1 (LSTM)", f"{_REPORT}/compare/CartPoleNoVel-v1", "100k", 10, threshold=475,
           every_final=475, median_steps="ppo_lstm"),
    Target(18, "PendulumNoVel-v1 (LSTM)", f"{_REPORT}/compare/PendulumNoVel-v1", "1M", 10, iqm=-250),
    Target(18, "LunarLanderNoVel-v3 (LSTM)", f"{_REPORT}/compare/LunarLanderNoVel-v3", "3M", 5, iqm=200),
    *(
        Target(21, f"{env} (equal time)", f"{_REPORT}/equal-time/{env}", "PPO's 1M-step seconds", 5, iqm="ppo",
               other=f"{_REPORT}/compare/{env}", ahead=True)
        for env in _LOCOMOTION_V4
    ),
    Target(21, "Walker2d-v5", f"{_REPORT}/entries/Walker2d-v5", "1M", 5, iqm=2000),
    Target(21, "Ant-v5", f"{_REPORT}/entries/Ant-v5", "1M", 5, iqm=2500),
    Target(21, "Humanoid-v5", f"{_REPORT}/entries/Humanoid-v5", "1M", 5, iqm=1500),
]  # fmt: skip


def targets_table(targets: list[Target]) -> str:
    """:return: One row per target (:func:`target_row`)"""
    header = ["issue", "env", "budget", "target", "report seeds", "reached", "met"]
    return report.markdown_table(header, [target_row(target) for target in targets])


def runs_table(directory: str, envs: list[str], trial: bool) -> str:
    """:return: The report table of the per-run JSON files ``directory/ENV/*.json``, of report seeds, or with
    ``trial`` of trial seeds (0-99) only"""
    runs = {env: report.read_runs(sorted((ROOT / directory / env).glob("*.json"))) for env in envs}
    if not trial:
        return report.report_envs_table(runs)
    reported = sorted({seed for curves in runs.values() for _, seed in curves if seed >= report.TRIAL_SEEDS_END})
    if reported:
        raise ValueError(f"trial-runs shows trial seeds only (0-{report.TRIAL_SEEDS_END - 1}), but {directory} has {reported}")
    return report.report_envs_table(runs, first_seed=0)


# The kinds whose one argument is a file of a benchmark script: a missing file is a table that has not run yet
FILE_KINDS: dict[str, Callable[[Path], str]] = {
    "defaults": report.defaults_table,
    "throughput": report.throughput_table,
    "memory": report.memory_table,
    "json": report.json_table,
    "variance": report.variance_table,
}


def render(spec: str) -> str:
    """:return: The table of a marker ``<!-- table: SPEC -->``, SPEC being ``KIND ARGS`` (see the module docstring)"""
    kind, *args = spec.split()
    if kind in FILE_KINDS:
        source = ROOT / args[0]
        return FILE_KINDS[kind](source) if source.exists() else f"Not run yet: `{args[0]}` does not exist."
    if kind == "compare":
        return compare_table(ROOT / args[0], float(args[1]) if len(args) > 1 else None)
    if kind == "report":
        others = {name: ROOT / path for path, name in (arg.split("=", 1) for arg in args[1:] if "=" in arg)}
        thresholds = [float(arg) for arg in args[1:] if "=" not in arg]
        return report_table(ROOT / args[0], thresholds[0] if thresholds else None, others)
    if kind in ("report-envs", "report-runs", "trial-runs"):
        if len(args) < 2:
            raise ValueError(f"{kind} takes DIR ENV..., got {args}")
        if kind == "report-envs":
            return report.report_envs_table({env: _curves(ROOT / args[0] / env) for env in args[1:]})
        return runs_table(args[0], args[1:], trial=kind == "trial-runs")
    if kind == "targets":
        return targets_table(TARGETS)
    if kind == "equal-time":
        return equal_time_table(*(ROOT / arg for arg in args))
    if kind == "sample_efficiency":
        return report.sample_efficiency_table(ROOT / args[0], *args[1:])
    if kind == "mujoco":
        return report.mujoco_table(ROOT / args[0], _zoo_entries(), ROOT / args[1] if len(args) > 1 else None)
    raise ValueError(f"unknown table kind {kind!r}")


def _render_block(match: re.Match) -> str:
    spec = match.group("spec")
    try:
        table = render(spec)
    except ValueError as error:  # which table of the document, as well as what is wrong with it
        raise ValueError(f"<!-- table: {spec} -->: {error}") from error
    return f"{match.group(1)}{table}\n{match.group(4)}"


def regenerate(text: str) -> str:
    """:return: ``text`` with the body of every table block rendered anew from its files"""
    return BLOCK.sub(_render_block, text)


def main(check: bool) -> int:
    stale = []
    for document in DOCUMENTS:
        text = document.read_text()
        try:
            new = regenerate(text)
        except ValueError as error:
            print(f"{document.relative_to(ROOT)}: {error}", file=sys.stderr)
            return 1
        if new != text:
            stale.append(document.relative_to(ROOT))
            if not check:
                document.write_text(new)
    if check and stale:
        print(f"tables out of date in {', '.join(map(str, stale))}: run `make docs-tables`", file=sys.stderr)
        return 1
    print(("checked" if check else "regenerated") + f" the tables of {len(DOCUMENTS)} documents")
    return 0


if __name__ == "__main__":
    sys.exit(main("--check" in sys.argv[1:]))
