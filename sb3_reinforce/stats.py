"""
Statistics for comparing runs over seeds, as pure functions on arrays (checked by hand in tests/test_stats.py).

Conventions: a "sample" is one number per seed (e.g. each seed's final evaluation); a "curve" is one seed's
evaluations, ``x`` (env steps or seconds) against ``y`` (eval mean). Intervals are percentile bootstrap
intervals with a fixed RNG seed, so the same data always gives the same interval.

References: Agarwal et al. (2021), "Deep Reinforcement Learning at the Edge of the Statistical Precipice"
(IQM and bootstrap CIs over runs, https://arxiv.org/abs/2108.13264); Efron & Tibshirani (1993), "An
Introduction to the Bootstrap", ch. 13 (the percentile interval).
"""

from collections.abc import Callable, Sequence

import numpy as np

# A statistic reduces axis ``axis`` of an array, like np.mean(values, axis=...)
Statistic = Callable[..., np.ndarray]


def iqm(values: np.ndarray | Sequence[float], axis: int = 0) -> np.ndarray:
    """
    Interquartile mean: the mean of the middle half of the sorted values, dropping ``floor(n / 4)`` values at
    each end (``scipy.stats.trim_mean(values, 0.25)``, as in rliable). With fewer than 4 values nothing is
    dropped and it is the plain mean.

    :param values: The sample, along ``axis``
    :param axis: The axis to reduce
    :return: The IQM (a numpy scalar for 1-D input)
    """
    values = np.sort(np.asarray(values, dtype=np.float64), axis=axis)
    n = values.shape[axis]
    if n == 0:
        raise ValueError("iqm of an empty sample")
    cut = n // 4
    return np.take(values, np.arange(cut, n - cut), axis=axis).mean(axis=axis)


def bootstrap_ci(
    values: np.ndarray | Sequence[float],
    statistic: Statistic = np.mean,
    confidence: float = 0.95,
    n_resamples: int = 10_000,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """
    Percentile bootstrap confidence interval of ``statistic`` over the first axis (the seeds).

    Resamples the n rows with replacement ``n_resamples`` times, applies the statistic to each resample and
    returns the ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles. Extra axes are independent
    statistics sharing the same resampled rows (e.g. one column per point of a curve). With few seeds the
    interval is narrower than it should be (a bootstrap cannot invent spread that 3 seeds did not show): read
    it as a description of the runs, not a guarantee.

    :param values: Shape ``(n, ...)``: n seeds
    :param statistic: Called as ``statistic(resamples, axis=1)`` on shape ``(n_resamples, n, ...)``,
        e.g. ``np.mean``, ``np.median`` or :func:`iqm`
    :param confidence: Coverage of the interval, in (0, 1)
    :param n_resamples: Bootstrap resamples
    :param seed: Seed of the resampling RNG (fixed, so the interval is reproducible)
    :return: ``(low, high)``, each of shape ``values.shape[1:]``
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 0 or len(values) == 0:
        raise ValueError(f"bootstrap_ci needs at least one value along the first axis, got shape {values.shape}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    rng = np.random.default_rng(seed)
    indices = rng.integers(0, len(values), size=(n_resamples, len(values)))
    estimates = statistic(values[indices], axis=1)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(estimates, [alpha, 1.0 - alpha], axis=0)
    return low, high


def mean_std(values: np.ndarray | Sequence[float]) -> tuple[float, float]:
    """
    :param values: One number per seed
    :return: Mean and sample standard deviation (ddof=1; 0 for a single value)
    """
    values = np.asarray(values, dtype=np.float64)
    std = float(values.std(ddof=1)) if len(values) > 1 else 0.0
    return float(values.mean()), std


def steps_to_threshold(x: np.ndarray | Sequence[float], y: np.ndarray | Sequence[float], threshold: float) -> float:
    """
    Where a curve first reaches a threshold: ``x`` at the first evaluation whose ``y >= threshold``.

    No interpolation between evaluations: the run is known to have got there at that evaluation, not before.
    Works for any x (env steps, or seconds of training for the wall-clock version).

    :param x: Evaluation points, increasing
    :param y: Evaluation results at those points
    :param threshold: The level to reach
    :return: The first such x, or ``inf`` if the curve never gets there
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same shape, got {x.shape} and {y.shape}")
    reached = np.flatnonzero(y >= threshold)
    return float(x[reached[0]]) if len(reached) else float("inf")


def median_to_threshold(times: np.ndarray | Sequence[float]) -> tuple[float, int]:
    """
    Median over seeds of the time to threshold, counting a seed that never got there as ``inf``.

    Dropping those seeds would report the speed of the lucky ones only; counting them as infinitely slow keeps
    the median honest, and makes it ``inf`` ("not reached by half the seeds") when fewer than half got there.

    :param times: One value per seed from :func:`steps_to_threshold` (``inf`` = never)
    :return: The median (``inf`` if at least half the seeds never got there) and how many seeds got there
    """
    times = np.asarray(times, dtype=np.float64)
    if len(times) == 0:
        raise ValueError("median_to_threshold of an empty sample")
    reached = int(np.isfinite(times).sum())
    # np.median averages the two middle values: with an inf among them the median is inf, as it should be
    return float(np.median(times)), reached


def aggregate_curves(
    curves: Sequence[tuple[np.ndarray, np.ndarray]],
    confidence: float = 0.95,
    n_resamples: int = 2_000,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """
    Mean curve over seeds with a bootstrap confidence band, on a common grid.

    Seeds are evaluated at slightly different x (the last evaluation of an episodic run, or seconds), so each
    curve is linearly interpolated onto the union of all evaluation points, cut at the shortest run so that
    every grid point averages every seed (nothing is extrapolated).

    :param curves: One ``(x, y)`` pair per seed, x increasing
    :param confidence: Coverage of the band
    :param n_resamples: Bootstrap resamples (per grid point, shared rows)
    :param seed: Seed of the resampling RNG
    :return: ``grid, mean, low, high``
    """
    if not curves:
        raise ValueError("aggregate_curves needs at least one curve")
    arrays = [(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)) for x, y in curves]
    start = max(x[0] for x, _ in arrays)
    end = min(x[-1] for x, _ in arrays)
    grid = np.unique(np.concatenate([x for x, _ in arrays]))
    grid = grid[(grid >= start) & (grid <= end)]
    if len(grid) == 0:  # runs that do not overlap: keep the shortest run's last point
        grid = np.array([end])
    ys = np.stack([np.interp(grid, x, y) for x, y in arrays])
    low, high = bootstrap_ci(ys, np.mean, confidence=confidence, n_resamples=n_resamples, seed=seed)
    return grid, ys.mean(axis=0), low, high


def gradient_statistics(grads: np.ndarray) -> dict[str, float]:
    """
    Spread of a stochastic gradient estimator from K independent estimates.

    - ``total_variance``: the trace of the covariance, ``sum_k ||g_k - g_bar||^2 / (K - 1)`` (the unbiased
      estimate; the mean squared distance to the mean gradient, up to K / (K - 1));
    - ``mean_grad_norm``: ``||g_bar||``, the norm of the mean estimate. Note that ``E ||g_bar||^2`` is
      ``||E g||^2 + total_variance / K``: at a flat point the mean's norm is mostly noise;
    - ``snr``: ``||g_bar||^2 / total_variance``, larger is better (Roberts & Tedrake, NIPS 2008,
      "Signal-to-noise ratio analysis of policy gradient algorithms"); ``inf`` for a nonzero gradient without
      spread, NaN when every estimate is zero (a batch baseline cancels the return when all episodes score alike).

    :param grads: Shape ``(K, n_parameters)``, K >= 2
    :return: The three numbers, as floats
    """
    grads = np.asarray(grads, dtype=np.float64)
    if grads.ndim != 2 or len(grads) < 2:
        raise ValueError(f"gradient_statistics needs shape (K >= 2, n_parameters), got {grads.shape}")
    mean = grads.mean(axis=0)
    total_variance = float(((grads - mean) ** 2).sum(axis=1).sum() / (len(grads) - 1))
    mean_sq = float(mean @ mean)
    if total_variance > 0:
        snr = mean_sq / total_variance
    else:
        snr = float("inf") if mean_sq > 0 else float("nan")
    return {"total_variance": total_variance, "mean_grad_norm": float(np.sqrt(mean_sq)), "snr": snr}
