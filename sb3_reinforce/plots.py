"""
Figures of the comparison tools, drawn with matplotlib's Agg canvas (no display, no pyplot global state).

matplotlib is an optional dependency (``pip install sb3-reinforce[bench]``), imported when a figure is drawn.
"""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sb3_reinforce import stats


def _figure(width: float, height: float, ncols: int = 1):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, ncols, squeeze=False)[0]
    return figure, axes


def plot_curves(
    runs: Sequence[dict[str, Any]],
    algos: Sequence[str],
    path: Path | str,
    threshold: float | None = None,
    title: str = "",
) -> None:
    """
    Eval mean against env steps (left) and against seconds of training (right), one line per algo: the mean over
    seeds with a 95% percentile bootstrap CI of the mean (see :func:`sb3_reinforce.stats.aggregate_curves`).

    :param runs: Results of ``compare.train_run``: ``algo`` and ``curve`` rows ``(steps, seconds, mean, std)``
    :param algos: The algos, in legend order
    :param path: The PNG to write
    :param threshold: Drawn as a dashed line if given
    :param title: Figure title (the env id)
    """
    figure, (by_steps, by_seconds) = _figure(12, 4.5, ncols=2)
    for index, algo in enumerate(algos):
        curves = [np.asarray(run["curve"], dtype=np.float64) for run in runs if run["algo"] == algo]
        if not curves:
            continue
        color = f"C{index}"
        for ax, column in ((by_steps, 0), (by_seconds, 1)):
            grid, mean, low, high = stats.aggregate_curves([(curve[:, column], curve[:, 2]) for curve in curves])
            ax.plot(grid, mean, color=color, marker="." if len(grid) < 30 else None, label=f"{algo} ({len(curves)} seeds)")
            ax.fill_between(grid, low, high, color=color, alpha=0.2, linewidth=0)
    for ax, xlabel in ((by_steps, "env steps"), (by_seconds, "seconds of training (evaluation excluded)")):
        if threshold is not None:
            ax.axhline(threshold, color="gray", linestyle="--", linewidth=1, label=f"threshold {threshold:g}")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("deterministic eval mean")
        ax.grid(alpha=0.3)
    by_steps.legend(loc="best", fontsize="small")
    figure.suptitle(f"{title}: mean over seeds, 95% bootstrap CI of the mean")
    figure.savefig(path, dpi=110)


def plot_variance(rows: Sequence[dict[str, Any]], path: Path | str, title: str = "") -> None:
    """
    Bar chart of the gradient estimator's total variance (log scale) per return_type x baseline, one bar per policy.

    :param rows: ``policy, return_type, baseline, total_variance`` per combination and policy
    :param path: The PNG to write
    :param title: Figure title
    """
    policies = list(dict.fromkeys(row["policy"] for row in rows))
    combos = list(dict.fromkeys((row["return_type"], row["baseline"]) for row in rows))
    values = {(row["policy"], row["return_type"], row["baseline"]): row["total_variance"] for row in rows}
    figure, (ax,) = _figure(max(7.0, 1.1 * len(combos) + 2), 4.5)
    width = 0.8 / len(policies)
    x = np.arange(len(combos))
    for index, policy in enumerate(policies):
        heights = [values.get((policy, *combo), np.nan) for combo in combos]
        ax.bar(x + (index - (len(policies) - 1) / 2) * width, heights, width, label=policy, color=f"C{index}")
    ax.set_yscale("log")
    ax.set_xticks(x, [f"{return_type}\n{baseline}" for return_type, baseline in combos])
    ax.set_xlabel("return_type / baseline")
    ax.set_ylabel("total variance of the gradient (trace of covariance)")
    ax.grid(axis="y", alpha=0.3, which="both")
    ax.legend(title="policy", fontsize="small")
    ax.set_title(title)
    figure.savefig(path, dpi=110)
