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
from pathlib import Path

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


def render(spec: str) -> str:
    """:return: The table of a marker ``<!-- table: SPEC -->``, SPEC being ``KIND ARGS`` (see the module docstring)"""
    kind, *args = spec.split()
    source = ROOT / args[0] if args else None
    if kind in ("defaults", "throughput", "memory", "json", "variance") and source is not None and not source.exists():
        return f"Not run yet: `{args[0]}` does not exist."
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
    if kind == "equal-time":
        return equal_time_table(*(ROOT / arg for arg in args))
    if kind == "sample_efficiency":
        return report.sample_efficiency_table(ROOT / args[0], *args[1:])
    if kind == "json":
        return report.json_table(ROOT / args[0])
    if kind == "mujoco":
        return report.mujoco_table(ROOT / args[0], _zoo_entries(), ROOT / args[1] if len(args) > 1 else None)
    if kind == "defaults":
        return report.defaults_table(ROOT / args[0])
    if kind == "variance":
        return report.variance_table(ROOT / args[0])
    if kind == "throughput":
        return report.throughput_table(ROOT / args[0])
    if kind == "memory":
        return report.memory_table(ROOT / args[0])
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
