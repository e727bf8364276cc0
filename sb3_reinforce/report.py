"""
Tables of results, as Markdown, from the files the tools write: every table of ``sb3-reinforce compare``'s
``summary.md`` and of README.md and docs/ is rendered here, so that the same numbers are always computed the same
way. ``docs/tables.py`` finds the tables' markers in the docs and calls these functions; ``compare`` calls
:func:`compare_table` for its summary.

Every ± is the sample standard deviation (ddof=1) over seeds; a single seed shows its value alone. IQMs and their
95% percentile bootstrap CIs come from :mod:`sb3_reinforce.stats` (10,000 resamples, RNG seed 0), so the same files
always render the same table.

A tool module: it imports numpy and :mod:`sb3_reinforce.stats`, nothing of rl_zoo3 or matplotlib, and the package's
``__init__`` does not import it.
"""

import csv
import json
import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sb3_reinforce import stats

REPORT_SEEDS_START = 1000
"""The first report seed: tuning and trials use seeds below it, published tables only seeds from it on (issue 17), so
that no published figure is of a seed an entry was chosen on. The ``report`` tables refuse any other seed."""
TRIAL_SEEDS_END = 100  # trials and tuning use seeds 0-99 (benchmarks/seeds.py)

# curves.csv, as ``sb3-reinforce compare`` writes it: one row per evaluation of a run
CURVE_COLUMNS = ("algo", "seed", "timesteps", "seconds", "eval_mean", "eval_std")

# Each run's evaluations by ``(algo, seed)``: rows ``(timesteps, seconds, eval_mean)``, in the order of evaluation
Curves = dict[tuple[str, int], np.ndarray]

# Tianshou's REINFORCE on MuJoCo (10 seeds, max over training of the mean test return), at 3M and 10M steps
TIANSHOU = {
    "HalfCheetah": (884.0, 1138.8),
    "Hopper": (395.8, 416.0),
    "Walker2d": (412.0, 440.9),
    "Swimmer": (35.3, 35.6),
    "Reacher": (-10.5, -5.5),
    "InvertedPendulum": (999.2, 1000.0),
    "InvertedDoublePendulum": (1059.7, 7726.2),
    "Ant": (474.9, 1108.1),
    "Humanoid": (438.2, 464.3),
}


# ---------------------------------------------------------------------------------------------------
# Curves: what a comparison writes and reads
# ---------------------------------------------------------------------------------------------------


def write_curves_csv(runs: Sequence[dict[str, Any]], path: Path | str) -> None:
    """
    Write a comparison's ``curves.csv``: one row per evaluation, ``algo, seed, timesteps, seconds`` (of training,
    evaluations excluded), ``eval_mean, eval_std`` (over the evaluation's episodes).

    :param runs: Results of ``compare.train_run``: ``algo``, ``seed`` and ``curve`` rows ``(steps, seconds, mean, std)``
    :param path: The file to write
    """
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(CURVE_COLUMNS)
        for run in runs:
            for timesteps, seconds, mean, std in run["curve"]:
                writer.writerow([run["algo"], run["seed"], timesteps, f"{seconds:.6f}", f"{mean:.10g}", f"{std:.10g}"])


def read_curves(path: Path | str) -> Curves:
    """
    :param path: A comparison's ``curves.csv`` (only the columns ``algo, seed, timesteps, seconds, eval_mean`` are read)
    :return: Each run's evaluations, rows ``(timesteps, seconds, eval_mean)``, by ``(algo, seed)`` in the file's order
    """
    runs: dict[tuple[str, int], list[list[float]]] = defaultdict(list)
    with open(path) as file:
        for row in csv.DictReader(file):
            runs[(row["algo"], int(row["seed"]))].append(
                [float(row["timesteps"]), float(row["seconds"]), float(row["eval_mean"])]
            )
    return {key: np.array(rows) for key, rows in runs.items()}


def read_runs(paths: Sequence[Path]) -> Curves:
    """
    Read the per-run JSON files of a benchmark script (``benchmarks/defaults_suite.py``) as curves.

    :param paths: One JSON file per run, each with ``seed``, ``evals`` (rows ``[timesteps, seconds, eval_mean]``, the
        last one the final evaluation) and ``setting`` (the row's name; ``algo`` if there is none)
    :return: Each run's evaluations by ``(setting, seed)``: REINFORCE's settings first, then the others, each
        alphabetically
    """
    runs = [json.loads(Path(path).read_text()) for path in paths]
    runs.sort(key=lambda run: (run.get("algo") != "reinforce", run.get("setting", run.get("algo")), run["seed"]))
    curves = {}
    for run in runs:
        name = run.get("setting", run.get("algo"))
        if not run.get("evals"):
            raise ValueError(f"run {name} seed {run['seed']} has no evals: {run.get('evals')!r}")
        curves[(name, int(run["seed"]))] = np.asarray(run["evals"], dtype=np.float64)[:, :3]
    return curves


def curves_of_runs(runs: Sequence[dict[str, Any]]) -> Curves:
    """
    :param runs: Results of ``compare.train_run`` (``algo``, ``seed``, ``curve``)
    :return: Their curves as :func:`read_curves` gives them from the ``curves.csv`` those runs write
    """
    return {(run["algo"], run["seed"]): np.asarray(run["curve"], dtype=np.float64)[:, :3] for run in runs}


# ---------------------------------------------------------------------------------------------------
# Cells
# ---------------------------------------------------------------------------------------------------


def number(value: float, digits: int) -> str:
    """:return: ``value`` with thousands separators and ``digits`` decimals, or "never" if it is not finite"""
    return "never" if not np.isfinite(value) else f"{value:,.{digits}f}"


def mean_std(values: np.ndarray | Sequence[float]) -> str:
    """:return: ``mean ± sample std`` over seeds; the mean alone for one seed (a std needs two)"""
    mean, std = stats.mean_std(values)
    return f"{mean:.1f}" if len(values) == 1 else f"{mean:.1f} ± {std:.1f}"


def seed_list(seeds: Sequence[int]) -> str:
    """
    :param seeds: Distinct seeds, in any order
    :return: The seeds, sorted and named compactly: each run of at least 3 consecutive seeds as a range
        (``1000-1009``), the others listed (``1000-1002, 1005, 1007``)
    """
    if len(seeds) == 0:
        raise ValueError(f"seeds must not be empty, got {seeds!r}")
    ordered = sorted(seeds)
    runs: list[list[int]] = []
    for seed in ordered:
        if runs and seed == runs[-1][-1] + 1:
            runs[-1].append(seed)
        else:
            runs.append([seed])
    names = [f"{run[0]}-{run[-1]}" if len(run) >= 3 else ", ".join(map(str, run)) for run in runs]
    return ", ".join(names)


def format_steps(value: float) -> str:
    """
    :param value: A number of env steps
    :return: It to 3 significant digits, with k or M: a run's budget as it is said (100,004 steps: ``100k``;
        1,001,472: ``1M``; 2,500,000: ``2.5M``)
    """
    rounded = float(f"{value:.3g}")
    for unit, scale in (("M", 1e6), ("k", 1e3)):
        if rounded >= scale:
            return f"{rounded / scale:g}{unit}"
    return f"{rounded:g}"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """:return: A Markdown table: the header, the separator line, one line per row"""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------
# Comparisons (curves.csv of ``sb3-reinforce compare``)
# ---------------------------------------------------------------------------------------------------


def algo_summary(curves: Mapping[int, np.ndarray], threshold: float | None = None) -> dict[str, Any]:
    """
    The numbers of one algo over its seeds, from each seed's curve.

    :param curves: Each seed's evaluations, rows ``(timesteps, seconds, eval_mean)``, by seed
    :param threshold: Eval mean counted as solved (None: no time-to-threshold numbers)
    :return: ``seeds`` (sorted), ``finals`` (each seed's last eval, in that order), ``final_mean``, ``final_std``
        (ddof=1), ``iqm``, ``iqm_low``, ``iqm_high`` (its 95% percentile bootstrap CI), ``worst`` and ``worst_seed``
        (the lowest final eval, and the first seed with it), ``timesteps`` (median env steps at the last eval),
        ``fps`` (median env steps per second of training); with a threshold, ``steps_to_threshold`` and
        ``seconds_to_threshold`` (medians over seeds, inf if fewer than half got there), ``reached`` (how many seeds
        got there), ``slowest`` and ``slowest_seed`` (the most env steps a seed took, inf if one never got there,
        and the first seed that took them)
    """
    if not curves:
        raise ValueError("algo_summary needs at least one seed's curve, got none")
    # By seed: the bootstrap resamples by position, so the order must not depend on how the runs were listed
    seeds = sorted(curves)
    ordered = [np.asarray(curves[seed], dtype=np.float64) for seed in seeds]
    finals = np.array([curve[-1, 2] for curve in ordered])
    mean, std = stats.mean_std(finals)
    low, high = stats.bootstrap_ci(finals, stats.iqm)
    worst = int(np.argmin(finals))
    row: dict[str, Any] = {
        "seeds": seeds,
        "finals": finals,
        "final_mean": mean,
        "final_std": std,
        "iqm": float(stats.iqm(finals)),
        "iqm_low": float(low),
        "iqm_high": float(high),
        "worst": float(finals[worst]),
        "worst_seed": seeds[worst],
        "timesteps": float(np.median([curve[-1, 0] for curve in ordered])),
        "fps": float(np.median([curve[-1, 0] / curve[-1, 1] for curve in ordered])),
    }
    if threshold is not None:
        for name, column in (("steps", 0), ("seconds", 1)):
            times = [stats.steps_to_threshold(curve[:, column], curve[:, 2], threshold) for curve in ordered]
            row[f"{name}_to_threshold"], row["reached"] = stats.median_to_threshold(times)
            if name == "steps":
                slowest = int(np.argmax(times))
                row["slowest"], row["slowest_seed"] = float(times[slowest]), seeds[slowest]
    return row


def by_algo(curves: Curves) -> dict[str, dict[int, np.ndarray]]:
    """:return: The curves grouped by algo (in order of first appearance), each by seed"""
    grouped: dict[str, dict[int, np.ndarray]] = defaultdict(dict)
    for (algo, seed), curve in curves.items():
        grouped[algo][seed] = curve
    return dict(grouped)


def compare_table(
    curves: Curves,
    threshold: float | None = None,
    algos: Sequence[str] | None = None,
    n_seeds: int | None = None,
) -> str:
    """
    The table of a comparison, one row per algo: final eval mean ± std, its IQM [95% CI], with a threshold the
    median env steps and seconds to it (with how many seeds got there), and the median training fps.

    :param curves: The runs' curves (:func:`read_curves`, :func:`curves_of_runs`)
    :param threshold: Eval mean counted as solved (None: no threshold columns)
    :param algos: The rows, in order; an algo without runs gets a row of dashes (default: the algos of ``curves``,
        in order of first appearance)
    :param n_seeds: How many seeds each algo was meant to run: the second column then counts ``runs`` as
        ``finished/n_seeds`` (summary.md, where a run can fail) instead of naming the ``seeds`` (``3 (0-2)``)
    """
    grouped = by_algo(curves)
    header = ["algo", "seeds" if n_seeds is None else "runs", "final eval (mean ± std)", "final eval IQM [95% CI]"]
    if threshold is not None:
        header += [f"env steps to {threshold:g} (median, seeds)", f"seconds to {threshold:g} (median, seeds)"]
    header.append("training fps (median)")
    rows = []
    for algo in grouped if algos is None else algos:
        seeds = grouped.get(algo, {})
        if n_seeds is not None:
            count = f"{len(seeds)}/{n_seeds}"
        else:  # a docs table names its seeds, so that a reader sees whether they are tuning or report seeds
            count = f"{len(seeds)} ({seed_list(list(seeds))})" if seeds else "0"
        if algo not in grouped:
            rows.append([algo, count, *["—"] * (len(header) - 2)])
            continue
        row = algo_summary(grouped[algo], threshold)
        cells = [algo, count, mean_std(row["finals"]), f"{row['iqm']:.1f} [{row['iqm_low']:.1f}, {row['iqm_high']:.1f}]"]
        if threshold is not None:
            reached = f"({row['reached']}/{len(row['seeds'])})"
            cells += [
                f"{number(row['steps_to_threshold'], 0)} {reached}",
                f"{number(row['seconds_to_threshold'], 2)} {reached}",
            ]
        cells.append(f"{row['fps']:,.0f}")
        rows.append(cells)
    return markdown_table(header, rows)


REPORT_COLUMNS = ("seeds", "env steps", "final eval IQM [95% CI]", "final eval mean ± std", "worst seed")
NOT_RUN_CELLS = ("0", "—", "not run yet", "—", "—")  # REPORT_COLUMNS' cells of a comparison that has not run


def _report_cells(algo: str, curves: Mapping[int, np.ndarray], threshold: float | None, first_seed: int) -> list[str]:
    """:return: The cells of one algo's row of a report table (:data:`REPORT_COLUMNS`, then the threshold's)"""
    below = sorted(seed for seed in curves if seed < first_seed)
    if below:
        raise ValueError(
            f"a report table shows report seeds only (>= first_seed={first_seed}), but {algo} has seeds {below}: "
            "tuning seeds must not enter a published figure"
        )
    row = algo_summary(curves, threshold)
    cells = [
        f"{len(row['seeds'])} ({seed_list(row['seeds'])})",
        format_steps(row["timesteps"]),
        f"{row['iqm']:.1f} [{row['iqm_low']:.1f}, {row['iqm_high']:.1f}]",
        mean_std(row["finals"]),
        f"{row['worst']:.1f} (seed {row['worst_seed']})",
    ]
    if threshold is not None:
        cells += [
            f"{number(row['steps_to_threshold'], 0)} ({row['reached']}/{len(row['seeds'])})",
            f"{number(row['slowest'], 0)} (seed {row['slowest_seed']})",
        ]
    return cells


def report_table(curves: Curves, threshold: float | None = None, first_seed: int = REPORT_SEEDS_START) -> str:
    """
    The published table of one env's comparison, one row per algo, over report seeds: the seeds (how many, and which),
    the env steps of a run (median over seeds of the last evaluation's), the final eval's IQM with its 95% percentile
    bootstrap CI (:func:`sb3_reinforce.stats.bootstrap_ci`: 10,000 resamples, RNG seed 0), its mean ± sample std, and
    the worst seed's final eval. With a threshold, also the median env steps to it over all seeds (a seed that never
    got there counts as infinitely slow) with how many got there, and the slowest seed.

    :param curves: The comparison's curves (:func:`read_curves` of its ``curves.csv``)
    :param threshold: Eval mean counted as solved (None: no threshold columns)
    :param first_seed: The lowest seed allowed: a run of a lower (tuning) seed raises a ValueError
    """
    header = ["algo", *REPORT_COLUMNS]
    if threshold is not None:
        header += [f"env steps to {threshold:g}: median (seeds there)", f"env steps to {threshold:g}: slowest seed"]
    rows = [[algo, *_report_cells(algo, by_seed, threshold, first_seed)] for algo, by_seed in by_algo(curves).items()]
    return markdown_table(header, rows)


def equal_time_table(
    equal_steps: Curves, equal_time: Curves | None, budget_algo: str = "ppo", first_seed: int = REPORT_SEEDS_START
) -> str:
    """
    The published table of an equal-time comparison: each algo at equal env steps (the comparison in ``equal_steps``)
    and at equal training time (the one in ``equal_time``, whose runs were given the median training seconds of
    ``budget_algo``'s runs in ``equal_steps``), with :func:`report_table`'s columns and the median training seconds
    over seeds (the last evaluation's clock: training only, evaluations excluded). ``budget_algo``'s own row at equal
    steps is its row at equal time: its seconds are the budget.

    :param equal_steps: The comparison at one number of env steps, ``budget_algo`` among its algos
    :param equal_time: The comparison given ``budget_algo``'s seconds (None: not run yet; its rows say so)
    :param budget_algo: The algo whose median training seconds are the time budget
    :param first_seed: The lowest seed allowed: a run of a lower (tuning) seed raises a ValueError
    """
    steps_by_algo = by_algo(equal_steps)
    if budget_algo not in steps_by_algo:
        raise ValueError(f"budget_algo={budget_algo!r} has no runs at equal steps (algos: {sorted(steps_by_algo)})")
    steps_budget = format_steps(float(np.median([curve[-1, 0] for curve in steps_by_algo[budget_algo].values()])))

    def row(algo: str, by_seed: Mapping[int, np.ndarray], budget: str) -> list[str]:
        seconds = float(np.median([curve[-1, 1] for curve in by_seed.values()]))
        return [algo, budget, *_report_cells(algo, by_seed, None, first_seed), number(seconds, 0)]

    time_budget = f"{budget_algo}'s time"
    rows = [row(budget_algo, steps_by_algo[budget_algo], f"{steps_budget} steps = {time_budget}")]
    if equal_time is None:
        rows += [[algo, time_budget, *NOT_RUN_CELLS, "—"] for algo in steps_by_algo if algo != budget_algo]
    else:
        rows += [row(algo, by_seed, time_budget) for algo, by_seed in by_algo(equal_time).items() if algo != budget_algo]
    rows += [row(algo, by_seed, f"{steps_budget} steps") for algo, by_seed in steps_by_algo.items() if algo != budget_algo]
    return markdown_table(["algo", "budget", *REPORT_COLUMNS, "training seconds (median)"], rows)


def report_envs_table(comparisons: Mapping[str, Curves | None], first_seed: int = REPORT_SEEDS_START) -> str:
    """
    One row per env and algo: the columns of :func:`report_table` without a threshold (thresholds differ by env).

    :param comparisons: Each env's comparison curves, in row order; None for an env whose comparison has not run
    :param first_seed: The lowest seed allowed: a run of a lower (tuning) seed raises a ValueError
    """
    rows = []
    for env, curves in comparisons.items():
        if not curves:
            rows.append([env, "—", *NOT_RUN_CELLS])
            continue
        rows += [[env, algo, *_report_cells(algo, by_seed, None, first_seed)] for algo, by_seed in by_algo(curves).items()]
    return markdown_table(["env", "algo", *REPORT_COLUMNS], rows)


# ---------------------------------------------------------------------------------------------------
# Benchmark scripts' result files
# ---------------------------------------------------------------------------------------------------


def _non_default_settings(run: dict) -> str:
    """:return: the settings of a ``benchmarks/sample_efficiency.py`` run that differ from REINFORCE's defaults
    (older files lack the newer keys, and ran with the defaults)"""
    settings = []
    if run.get("baseline") == "value":
        if run.get("critic_batch_size", 64) != 64:
            settings.append(f"critic minibatch {run['critic_batch_size']}")
        if run.get("critic_learning_rate", 1e-3) != 1e-3:
            settings.append(f"critic lr {run['critic_learning_rate']:g}")
        if run.get("n_critic_updates", 10) != 10:
            settings.append(f"{run['n_critic_updates']} critic passes")
    if run.get("gamma", 0.99) != 0.99:
        settings.append(f"gamma {run['gamma']:g}")
    if run.get("normalize_obs", False):
        settings.append("obs normalized")
    if run.get("time_feature", False):
        settings.append("time feature")
    if run.get("ent_coef", 0.0) != 0.0:
        settings.append(f"ent_coef {run['ent_coef']:g}")
    return ", ".join(settings)


def sample_efficiency_table(directory: Path, pattern: str = "*.json") -> str:
    """
    Steps to the threshold and final evals of ``benchmarks/sample_efficiency.py`` runs, one row per setting.

    :param directory: Where the runs' JSON files are
    :param pattern: Which of them (a glob)
    """
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for path in sorted(directory.glob(pattern)):
        run = json.loads(path.read_text())
        key = (
            run["vec_env"],
            run.get("return_type", "reward_to_go"),
            run.get("baseline", "leave_one_out"),
            run["learning_rate"],
            run["n_episodes"],
            _non_default_settings(run),
        )
        groups[key].append(run)
    header = [
        "VecEnv", "return_type", "baseline", "lr", "N", "seeds", "env steps to threshold: median (per seed, k)",
        "final eval (mean ± std)", "worst seed", "discarded",
    ]  # fmt: skip
    rows = []
    for (vec_env, return_type, baseline, lr, n_episodes, settings), runs in groups.items():
        runs.sort(key=lambda run: run["seed"])
        budget = runs[0]["timesteps"]
        times = [run["steps_to_threshold"] if run["steps_to_threshold"] is not None else np.inf for run in runs]
        median, _ = stats.median_to_threshold(times)
        per_seed = " ".join(f"{t / 1000:.0f}" if np.isfinite(t) else f">{budget // 1000}" for t in times)
        finals = [run["final_eval"] for run in runs]
        rows.append(
            [
                "Subset" if vec_env == "subset" else "all envs",
                return_type,
                f"{baseline} ({settings})" if settings else baseline,
                lr,
                str(n_episodes),
                str(len(runs)),
                f"{number(median, 0)} ({per_seed})",
                mean_std(finals),
                f"{min(finals):.1f}",
                f"{statistics.mean(run['discarded_frac'] for run in runs):.0%}",
            ]
        )
    return markdown_table(header, rows)


def json_table(path: Path) -> str:
    """:param path: A table a benchmark script wrote as JSON: ``{"columns": [...], "rows": [[...], ...]}``"""
    table = json.loads(path.read_text())
    return markdown_table(table["columns"], [list(map(str, row)) for row in table["rows"]])


def _runs_match_entry(env_dir: Path, entries: Mapping[str, Any]) -> bool:
    """Whether every REINFORCE run of the comparison ``env_dir`` was trained with the env's entry in ``entries``."""
    results = [json.loads(path.read_text()) for path in sorted((env_dir / "runs").glob("reinforce_seed*.json"))]
    results = [run for run in results if "spec" in run]  # not the .spec.json files
    return bool(results) and all(run.get("entry_value") == entries.get(env_dir.name) for run in results)


def _final_evals(curves: Curves) -> dict[str, dict[int, float]]:
    """:return: Each algo's final evaluation by seed"""
    finals: dict[str, dict[int, float]] = defaultdict(dict)
    for (algo, seed), curve in curves.items():
        finals[algo][seed] = float(curve[-1, 2])
    return dict(finals)


def _mean_std_seeds(finals: Mapping[int, float] | None) -> str:
    """:return: ``mean ± std (seeds)`` of final evals by seed, the seeds named (:func:`seed_list`)"""
    return "—" if not finals else f"{mean_std(list(finals.values()))} ({seed_list(list(finals))})"


def mujoco_table(directory: Path, entries: Mapping[str, Any], comparisons: Path | None = None) -> str:
    """
    One row per env of ``directory/<env>-v5/`` beside Tianshou's REINFORCE figures (:data:`TIANSHOU`); with
    ``comparisons``, also the final evals of each algo in ``comparisons/<env>-v4/curves.csv`` (the v4 ids, for which
    rl_zoo3 has PPO and A2C entries), where it exists.

    :param directory: The v5 comparisons, one folder per env
    :param entries: REINFORCE's zoo entries by env id: an env whose runs were not all trained with its entry shows
        as not run yet
    :param comparisons: The v4 comparisons, one folder per env
    """
    header = "| env | steps | seeds | final eval (mean ± std) | worst seed | Tianshou 3M | Tianshou 10M | reaches |"
    algos = ("reinforce", "ppo", "a2c")
    if comparisons is not None:
        header += "".join(f" {algo}, v4 id, 1M: mean ± std (seeds) |" for algo in algos)
    lines = [header, "|" + "---|" * header.count(" |")]
    for name, (three, ten) in TIANSHOU.items():
        extra = ""
        v4 = comparisons / f"{name}-v4" / "curves.csv" if comparisons is not None else None
        if v4 is not None:
            finals = _final_evals(read_curves(v4)) if v4.is_file() else {}
            extra = "".join(f" {_mean_std_seeds(finals.get(algo))} |" for algo in algos)
        curves_path = directory / f"{name}-v5" / "curves.csv"
        if not curves_path.is_file():
            lines.append(f"| {name}-v5 | — | 0 | not run yet | — | {three} | {ten} | — |{extra}")
            continue
        by_seed = read_curves(curves_path)
        curves = list(by_seed.values())
        if not _runs_match_entry(directory / f"{name}-v5", entries):
            lines.append(f"| {name}-v5 | — | 0 | not run yet with the current entry | — | {three} | {ten} | — |{extra}")
            continue
        finals_v5 = np.array([curve[-1, 2] for curve in curves])
        mean = float(finals_v5.mean())
        steps = int(np.median([curve[-1, 0] for curve in curves]))
        verdict = "the 10M figure" if mean >= ten else "the 3M figure" if mean >= three else "neither"
        lines.append(
            f"| {name}-v5 | {steps / 1e6:.1f}M | {len(curves)} ({seed_list([seed for _, seed in by_seed])}) | "
            f"{mean_std(finals_v5)} | {finals_v5.min():.1f} | "
            f"{three} | {ten} | {verdict} |{extra}"
        )
    return "\n".join(lines)


def defaults_table(directory: Path) -> str:
    """:param directory: The runs of ``benchmarks/defaults_sweep.py``: one row per env and setting"""
    order = {name: i for i, name in enumerate(["total", "reward_to_go", "none", "mean", "leave_one_out", "value"])}
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for path in sorted(directory.glob("*.json")):
        run = json.loads(path.read_text())
        setting = ("return_type", "baseline", "normalize_advantage", "learning_rate", "n_episodes")
        groups[(run["env"], *(run[name] for name in setting))].append(run)
    header = [
        "env", "return_type", "baseline", "normalize", "lr", "N", "seeds", "final eval (mean ± std)", "worst seed",
        "last-100 train mean", "s/run (median)",
    ]  # fmt: skip
    rows = []
    for key in sorted(groups, key=lambda k: (k[0], order[k[1]], order[k[2]], k[3], k[4], k[5])):
        runs = groups[key]
        finals = [run["final_eval"] for run in runs]
        env, return_type, baseline, normalize, lr, n_episodes = key
        rows.append([
            env, return_type, baseline, str(normalize), f"{lr:g}", str(n_episodes), str(len(runs)),
            mean_std(finals), f"{min(finals):.1f}", f"{statistics.mean(r['last_100_train'] for r in runs):.1f}",
            f"{statistics.median(r['train_seconds'] for r in runs):.1f}",
        ])  # fmt: skip
    return markdown_table(header, rows)


def variance_table(path: Path) -> str:
    """
    :param path: ``sb3-reinforce variance``'s ``variance.csv``: each combination's variance relative to
        ``total``/``none`` and its signal-to-noise ratio, at each measured policy
    """
    with open(path) as file:
        rows = list(csv.DictReader(file))
    policies = list(dict.fromkeys(row["policy"] for row in rows))
    labels = [
        f"{'initial policy' if policy == 'initial' else f'checkpoint {i}'} (return "
        f"{float(next(r for r in rows if r['policy'] == policy)['mean_return']):.0f})"
        for i, policy in enumerate(policies)
    ]
    header = ["return_type", "baseline"] + [f"{kind}, {label}" for label in labels for kind in ("variance", "SNR")]
    cells = []
    for combination in dict.fromkeys((row["return_type"], row["baseline"]) for row in rows):
        line = list(combination)
        for policy in policies:
            row = next(r for r in rows if (r["return_type"], r["baseline"]) == combination and r["policy"] == policy)
            line += [f"{float(row['relative_variance']):.3g}", f"{float(row['snr']):.3g}"]
        cells.append(line)
    lines = [markdown_table(header, cells)]
    checkpoints = [f"checkpoint {i}: `{policy}`" for i, policy in enumerate(policies) if policy != "initial"]
    if checkpoints:
        lines += ["", "; ".join(checkpoints) + "."]
    return "\n".join(lines)


THROUGHPUT_LABELS = {"vecenv": "(a)", "forward": "(b)", "reinforce": "(c)", "ppo": "(d)", "a2c": "(e)", "ppo_lstm": "(f)"}


def throughput_table(path: Path) -> str:
    """:param path: One env's measurements of ``benchmarks/throughput.py`` (medians, ranges and ratios)"""
    record = json.loads(path.read_text())
    machine = record["machine"]
    entry = f"; PPO and A2C with their {record['entry_env']} entries" if record.get("entry_env") else ""
    lines = [
        f"Median of {record['repeats']} interleaved repeats of {record['steps']:,} env steps, "
        f"{machine['torch_threads']} torch thread, commit {machine['commit']}{entry}.",
        "",
        "| what | n_envs | steps/s (median) | min-max | used steps/s (median) | peak RSS (MB) |",
        "|---|---|---|---|---|---|",
    ]
    median, used = {}, {}
    for mode, runs in record["measurements"].items():
        fps = [run["steps_per_s"] for run in runs]
        median[mode] = statistics.median(fps)
        used[mode] = statistics.median(run["used_steps_per_s"] for run in runs)
        lines.append(
            f"| {THROUGHPUT_LABELS[mode]} {mode} | {runs[0]['n_envs']} | {median[mode]:,.0f} | "
            f"{min(fps):,.0f}-{max(fps):,.0f} | {used[mode]:,.0f} | {max(run['peak_rss_mb'] for run in runs):.0f} |"
        )
    if "reinforce" in median:
        others = [mode for mode in ("forward", "ppo", "a2c", "ppo_lstm") if mode in median]
        steps = ", ".join(f"(c)/{THROUGHPUT_LABELS[m]} = {median['reinforce'] / median[m]:.2f}" for m in others)
        useful = ", ".join(f"(c)/{THROUGHPUT_LABELS[m]} = {used['reinforce'] / used[m]:.2f}" for m in others)
        lines += ["", f"Ratios of steps/s: {steps}. Of used steps/s: {useful}."]
    return "\n".join(lines)


def memory_table(path: Path) -> str:
    """:param path: The peak memory of ``benchmarks/throughput.py --memory-steps``"""
    record = json.loads(path.read_text())
    lines = [
        f"{record['steps']:,}-step runs on CartPole-v1, commit {record['machine']['commit']}.",
        "",
        "| algo | peak RSS (MB) | steps/s |",
        "|---|---|---|",
    ]
    lines += [f"| {algo} | {run['peak_rss_mb']:.0f} | {run['steps_per_s']:,.0f} |" for algo, run in record["runs"].items()]
    runs = record["runs"]
    if {"reinforce", "ppo"} <= runs.keys():
        ratio = runs["reinforce"]["peak_rss_mb"] / runs["ppo"]["peak_rss_mb"] - 1
        lines += ["", f"REINFORCE's peak RSS is PPO's {ratio:+.1%}."]
    return "\n".join(lines)
