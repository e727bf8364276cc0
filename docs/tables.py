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

Every ± in these tables is the sample standard deviation (ddof=1) over seeds; a single seed shows its value alone.
"""

import csv
import functools
import json
import re
import statistics
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from sb3_reinforce import stats

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"(<!-- table: (?P<spec>[^>]*?) -->\n)(?P<body>.*?)(<!-- /table -->)", re.DOTALL)

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


def _number(value: float, digits: int) -> str:
    return "never" if not np.isfinite(value) else f"{value:,.{digits}f}"


def _mean_std(values) -> str:
    """:return: ``mean ± sample std`` over seeds; the mean alone for one seed (a std needs two)"""
    mean, std = stats.mean_std(values)
    return f"{mean:.1f}" if len(values) == 1 else f"{mean:.1f} ± {std:.1f}"


def read_curves(path: Path) -> dict[tuple[str, int], np.ndarray]:
    """:return: Each run's evaluations, rows ``(timesteps, seconds, eval_mean)``, by ``(algo, seed)``"""
    runs: dict[tuple[str, int], list[list[float]]] = defaultdict(list)
    with open(path) as file:
        for row in csv.DictReader(file):
            runs[(row["algo"], int(row["seed"]))].append(
                [float(row["timesteps"]), float(row["seconds"]), float(row["eval_mean"])]
            )
    return {key: np.array(rows) for key, rows in runs.items()}


def compare_table(directory: Path, threshold: float | None = None) -> str:
    if not (directory / "curves.csv").is_file():
        return f"Not run yet: `{directory.relative_to(ROOT)}/curves.csv` does not exist."
    runs = read_curves(directory / "curves.csv")
    algos = list(dict.fromkeys(algo for algo, _ in runs))
    header = ["algo", "seeds", "final eval (mean ± std)", "final eval IQM [95% CI]"]
    if threshold is not None:
        header += [f"env steps to {threshold:g} (median, seeds)", f"seconds to {threshold:g} (median, seeds)"]
    header.append("training fps (median)")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for algo in algos:
        curves = [curve for (name, _), curve in runs.items() if name == algo]
        finals = np.array([curve[-1, 2] for curve in curves])
        low, high = stats.bootstrap_ci(finals, stats.iqm)
        cells = [algo, str(len(curves)), _mean_std(finals), f"{float(stats.iqm(finals)):.1f} [{low:.1f}, {high:.1f}]"]
        if threshold is not None:
            for column, digits in ((0, 0), (1, 2)):
                times = [stats.steps_to_threshold(curve[:, column], curve[:, 2], threshold) for curve in curves]
                median, reached = stats.median_to_threshold(times)
                cells.append(f"{_number(median, digits)} ({reached}/{len(curves)})")
        cells.append(f"{np.median([curve[-1, 0] / curve[-1, 1] for curve in curves]):,.0f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


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
    return ", ".join(settings)


def sample_efficiency_table(directory: Path, pattern: str = "*.json") -> str:
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
    lines = [
        "| VecEnv | return_type | baseline | lr | N | seeds | env steps to threshold: median (per seed, k) | "
        "final eval (mean ± std) | worst seed | discarded |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (vec_env, return_type, baseline, lr, n_episodes, settings), runs in groups.items():
        runs.sort(key=lambda run: run["seed"])
        budget = runs[0]["timesteps"]
        times = [run["steps_to_threshold"] if run["steps_to_threshold"] is not None else np.inf for run in runs]
        median, _ = stats.median_to_threshold(times)
        per_seed = " ".join(f"{t / 1000:.0f}" if np.isfinite(t) else f">{budget // 1000}" for t in times)
        finals = [run["final_eval"] for run in runs]
        cells = [
            "Subset" if vec_env == "subset" else "all envs",
            return_type,
            f"{baseline} ({settings})" if settings else baseline,
            lr,
            str(n_episodes),
            str(len(runs)),
            f"{_number(median, 0)} ({per_seed})",
            _mean_std(finals),
            f"{min(finals):.1f}",
            f"{statistics.mean(run['discarded_frac'] for run in runs):.0%}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def json_table(path: Path) -> str:
    table = json.loads(path.read_text())
    lines = ["| " + " | ".join(table["columns"]) + " |", "|" + "---|" * len(table["columns"])]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in table["rows"]]
    return "\n".join(lines)


@functools.cache
def _zoo_entries() -> dict:
    """:return: zoo_configs/reinforce.yml, read once per run of this script"""
    import yaml

    return yaml.safe_load((ROOT / "zoo_configs" / "reinforce.yml").read_text())


def _runs_match_entry(env_dir: Path) -> bool:
    """Whether every run of ``env_dir`` was trained with the env's current entry in zoo_configs/reinforce.yml."""
    entries = _zoo_entries()
    results = [json.loads(path.read_text()) for path in sorted((env_dir / "runs").glob("reinforce_seed*.json"))]
    results = [run for run in results if "spec" in run]  # not the .spec.json files
    return bool(results) and all(run.get("entry_value") == entries.get(env_dir.name) for run in results)


def _final_evals(curves_path: Path) -> dict[str, np.ndarray]:
    """:return: Each algo's final evaluations over its seeds, from a comparison's ``curves.csv``"""
    finals: dict[str, list[float]] = defaultdict(list)
    for (algo, _), curve in read_curves(curves_path).items():
        finals[algo].append(curve[-1, 2])
    return {algo: np.array(values) for algo, values in finals.items()}


def _mean_std_seeds(finals: np.ndarray | None) -> str:
    if finals is None:
        return "—"
    return f"{_mean_std(finals)} ({len(finals)})"


def mujoco_table(directory: Path, comparisons: Path | None = None) -> str:
    """
    One row per env of ``directory/<env>-v5/``; with ``comparisons``, also the final evals of each algo in
    ``comparisons/<env>-v4/curves.csv`` (the v4 ids, for which rl_zoo3 has PPO and A2C entries), where it exists.
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
            finals = _final_evals(v4) if v4.is_file() else {}
            extra = "".join(f" {_mean_std_seeds(finals.get(algo))} |" for algo in algos)
        curves_path = directory / f"{name}-v5" / "curves.csv"
        if not curves_path.is_file():
            lines.append(f"| {name}-v5 | — | 0 | not run yet | — | {three} | {ten} | — |{extra}")
            continue
        curves = list(read_curves(curves_path).values())
        if not _runs_match_entry(directory / f"{name}-v5"):
            lines.append(f"| {name}-v5 | — | 0 | not run yet with the current entry | — | {three} | {ten} | — |{extra}")
            continue
        finals_v5 = np.array([curve[-1, 2] for curve in curves])
        mean = float(finals_v5.mean())
        steps = int(np.median([curve[-1, 0] for curve in curves]))
        verdict = "the 10M figure" if mean >= ten else "the 3M figure" if mean >= three else "neither"
        lines.append(
            f"| {name}-v5 | {steps / 1e6:.1f}M | {len(curves)} | {_mean_std(finals_v5)} | {finals_v5.min():.1f} | "
            f"{three} | {ten} | {verdict} |{extra}"
        )
    return "\n".join(lines)


def defaults_table(directory: Path) -> str:
    order = {name: i for i, name in enumerate(["total", "reward_to_go", "none", "mean", "leave_one_out", "value"])}
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for path in sorted(directory.glob("*.json")):
        run = json.loads(path.read_text())
        setting = ("return_type", "baseline", "normalize_advantage", "learning_rate", "n_episodes")
        groups[(run["env"], *(run[name] for name in setting))].append(run)
    lines = [
        "| env | return_type | baseline | normalize | lr | N | seeds | final eval (mean ± std) | worst seed | "
        "last-100 train mean | s/run (median) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key in sorted(groups, key=lambda k: (k[0], order[k[1]], order[k[2]], k[3], k[4], k[5])):
        runs = groups[key]
        finals = [run["final_eval"] for run in runs]
        env, return_type, baseline, normalize, lr, n_episodes = key
        cells = [
            env, return_type, baseline, str(normalize), f"{lr:g}", str(n_episodes), str(len(runs)),
            _mean_std(finals), f"{min(finals):.1f}", f"{statistics.mean(r['last_100_train'] for r in runs):.1f}",
            f"{statistics.median(r['train_seconds'] for r in runs):.1f}",
        ]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def variance_table(path: Path) -> str:
    with open(path) as file:
        rows = list(csv.DictReader(file))
    policies = list(dict.fromkeys(row["policy"] for row in rows))
    labels = [
        f"{'initial policy' if policy == 'initial' else f'checkpoint {i}'} (return "
        f"{float(next(r for r in rows if r['policy'] == policy)['mean_return']):.0f})"
        for i, policy in enumerate(policies)
    ]
    header = ["return_type", "baseline"] + [f"{kind}, {label}" for label in labels for kind in ("variance", "SNR")]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for combination in dict.fromkeys((row["return_type"], row["baseline"]) for row in rows):
        cells = list(combination)
        for policy in policies:
            row = next(r for r in rows if (r["return_type"], r["baseline"]) == combination and r["policy"] == policy)
            cells += [f"{float(row['relative_variance']):.3g}", f"{float(row['snr']):.3g}"]
        lines.append("| " + " | ".join(cells) + " |")
    checkpoints = [f"checkpoint {i}: `{policy}`" for i, policy in enumerate(policies) if policy != "initial"]
    if checkpoints:
        lines += ["", "; ".join(checkpoints) + "."]
    return "\n".join(lines)


THROUGHPUT_LABELS = {"vecenv": "(a)", "forward": "(b)", "reinforce": "(c)", "ppo": "(d)", "a2c": "(e)"}


def throughput_table(path: Path) -> str:
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
        others = [mode for mode in ("forward", "ppo", "a2c") if mode in median]
        steps = ", ".join(f"(c)/{THROUGHPUT_LABELS[m]} = {median['reinforce'] / median[m]:.2f}" for m in others)
        useful = ", ".join(f"(c)/{THROUGHPUT_LABELS[m]} = {used['reinforce'] / used[m]:.2f}" for m in others)
        lines += ["", f"Ratios of steps/s: {steps}. Of used steps/s: {useful}."]
    return "\n".join(lines)


def memory_table(path: Path) -> str:
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


def render(spec: str) -> str:
    kind, *args = spec.split()
    source = ROOT / args[0] if args else None
    if kind in ("defaults", "throughput", "memory", "json", "variance") and source is not None and not source.exists():
        return f"Not run yet: `{args[0]}` does not exist."
    if kind == "compare":
        return compare_table(ROOT / args[0], float(args[1]) if len(args) > 1 else None)
    if kind == "sample_efficiency":
        return sample_efficiency_table(ROOT / args[0], *args[1:])
    if kind == "json":
        return json_table(ROOT / args[0])
    if kind == "mujoco":
        return mujoco_table(ROOT / args[0], ROOT / args[1] if len(args) > 1 else None)
    if kind == "defaults":
        return defaults_table(ROOT / args[0])
    if kind == "variance":
        return variance_table(ROOT / args[0])
    if kind == "throughput":
        return throughput_table(ROOT / args[0])
    if kind == "memory":
        return memory_table(ROOT / args[0])
    raise ValueError(f"unknown table kind {kind!r} in <!-- table: {spec} -->")


def regenerate(text: str) -> str:
    return BLOCK.sub(lambda match: f"{match.group(1)}{render(match.group('spec'))}\n{match.group(4)}", text)


def main(check: bool) -> int:
    stale = []
    for document in DOCUMENTS:
        text = document.read_text()
        new = regenerate(text)
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
