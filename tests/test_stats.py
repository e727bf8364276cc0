"""The statistics of the comparison tools (sb3_reinforce.stats), against values worked out by hand."""

import numpy as np
import pytest

from sb3_reinforce.stats import (
    aggregate_curves,
    bootstrap_ci,
    gradient_statistics,
    iqm,
    mean_std,
    median_to_threshold,
    steps_to_threshold,
)

INF = float("inf")


# ---------------------------------------------------------------------------------------------------
# IQM
# ---------------------------------------------------------------------------------------------------


def test_iqm_is_the_mean_of_the_middle_half():
    assert iqm(np.arange(1, 9)) == pytest.approx(4.5)  # mean of [3, 4, 5, 6]
    assert iqm([8, 1, 7, 2, 6, 3, 5, 4]) == pytest.approx(4.5)  # order does not matter
    assert iqm([1, 2, 3, 4, 100]) == pytest.approx(3.0)  # floor(5/4) = 1 dropped at each end: mean of [2, 3, 4]
    assert iqm([1, 2, 30]) == pytest.approx(11.0)  # fewer than 4 values: the plain mean
    assert iqm([1, 2, 3, 4, 5, 6, 7, 8, -1000, 1000]) == pytest.approx(4.5)  # 2 cut at each end: [3..6]


@pytest.mark.slow  # imports scipy
def test_iqm_matches_scipy_trim_mean_and_reduces_an_axis():
    scipy_stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(0)
    for n in range(1, 13):
        values = rng.normal(size=n)
        assert iqm(values) == pytest.approx(scipy_stats.trim_mean(values, 0.25))
    table = rng.normal(size=(7, 3))
    np.testing.assert_allclose(iqm(table, axis=0), [iqm(table[:, j]) for j in range(3)])
    with pytest.raises(ValueError, match="empty"):
        iqm([])


# ---------------------------------------------------------------------------------------------------
# Bootstrap confidence intervals
# ---------------------------------------------------------------------------------------------------


def test_bootstrap_ci_contains_the_estimate_and_is_deterministic():
    values = np.array([12.0, 15.0, 9.0, 30.0, 22.0, 18.0, 11.0, 25.0])
    low, high = bootstrap_ci(values, iqm, seed=0)
    assert low < iqm(values) < high
    assert min(values) <= low and high <= max(values)
    assert bootstrap_ci(values, iqm, seed=0) == (low, high)  # same seed, same interval
    narrow = bootstrap_ci(values, iqm, confidence=0.5)
    assert low <= narrow[0] <= narrow[1] <= high


def test_bootstrap_ci_of_a_constant_sample_has_zero_width():
    low, high = bootstrap_ci([7.0] * 5, iqm)
    assert low == high == 7.0
    low, high = bootstrap_ci([3.0], np.mean)  # one seed: nothing to resample but itself
    assert low == high == 3.0


def test_bootstrap_ci_of_the_mean_matches_the_normal_interval_on_a_large_sample():
    values = np.random.default_rng(1).normal(10.0, 2.0, size=400)
    low, high = bootstrap_ci(values, np.mean, n_resamples=4000)
    half_width = 1.96 * values.std(ddof=1) / np.sqrt(len(values))  # about 0.2
    assert (low + high) / 2 == pytest.approx(values.mean(), abs=0.03)
    assert (high - low) / 2 == pytest.approx(half_width, rel=0.1)


def test_bootstrap_ci_handles_columns_independently_with_shared_resamples():
    table = np.array([[1.0, 10.0], [2.0, 10.0], [4.0, 10.0], [8.0, 10.0]])
    low, high = bootstrap_ci(table, np.mean)
    assert low.shape == high.shape == (2,)
    assert (low[0], high[0]) == bootstrap_ci(table[:, 0], np.mean)
    assert low[1] == high[1] == 10.0
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_ci(table, np.mean, confidence=95)


def test_mean_std_uses_the_sample_std():
    assert mean_std([1, 2, 3, 4]) == pytest.approx((2.5, np.sqrt(5 / 3)))
    assert mean_std([4.0]) == (4.0, 0.0)


# ---------------------------------------------------------------------------------------------------
# Time to threshold
# ---------------------------------------------------------------------------------------------------


def test_steps_to_threshold_is_the_first_evaluation_at_or_above_it():
    steps, means = [0, 1000, 2000, 3000, 4000], [9.0, 40.0, 60.0, 45.0, 80.0]
    assert steps_to_threshold(steps, means, 50.0) == 2000  # not interpolated to 1500, and the dip after does not matter
    assert steps_to_threshold(steps, means, 60.0) == 2000  # >=
    assert steps_to_threshold(steps, means, 70.0) == 4000
    assert steps_to_threshold(steps, means, 5.0) == 0  # already there at the step-0 evaluation
    assert steps_to_threshold(steps, means, 81.0) == INF
    seconds = [0.0, 1.5, 3.0, 4.5, 6.0]  # the wall-clock version is the same function on other x
    assert steps_to_threshold(seconds, means, 50.0) == 3.0
    with pytest.raises(ValueError, match="shape"):
        steps_to_threshold([0, 1], [1.0], 0.0)


def test_median_to_threshold_counts_seeds_that_never_got_there_as_infinitely_slow():
    assert median_to_threshold([100, 300, 200]) == (200, 3)
    assert median_to_threshold([100, INF, 200]) == (200, 2)  # not 150: the slow seed counts
    assert median_to_threshold([100, 300]) == (200, 2)
    assert median_to_threshold([100, INF]) == (INF, 1)  # half the seeds never got there
    assert median_to_threshold([INF, INF, 5]) == (INF, 1)


# ---------------------------------------------------------------------------------------------------
# Curves and gradients
# ---------------------------------------------------------------------------------------------------


def test_aggregate_curves_interpolates_onto_common_points_up_to_the_shortest_run():
    curve_a = ([0, 10, 20], [0.0, 10.0, 20.0])
    curve_b = ([0, 15, 30], [0.0, 30.0, 60.0])
    grid, mean, low, high = aggregate_curves([curve_a, curve_b])
    np.testing.assert_array_equal(grid, [0, 10, 15, 20])  # 30 is past the shortest run
    # b at 10 is 20 (interpolated), a at 15 is 15: means (10 + 20) / 2, (15 + 30) / 2, (20 + 40) / 2
    np.testing.assert_allclose(mean, [0.0, 15.0, 22.5, 30.0])
    assert np.all(low <= mean) and np.all(mean <= high)
    assert low[0] == high[0] == 0.0
    grid, mean, low, high = aggregate_curves([curve_a, curve_a])
    np.testing.assert_array_equal(low, high)  # identical seeds: no spread


def test_gradient_statistics_by_hand():
    grads = np.array([[1.0, 0.0], [3.0, 0.0], [2.0, 2.0], [2.0, -2.0]])
    # mean (2, 0); squared distances 1, 1, 4, 4 -> trace of the covariance 10 / (4 - 1)
    result = gradient_statistics(grads)
    assert result["total_variance"] == pytest.approx(10 / 3)
    assert result["mean_grad_norm"] == pytest.approx(2.0)
    assert result["snr"] == pytest.approx(4 / (10 / 3))
    assert gradient_statistics(np.ones((3, 4)))["snr"] == INF
    assert np.isnan(gradient_statistics(np.zeros((3, 4)))["snr"])
    with pytest.raises(ValueError, match="K >= 2"):
        gradient_statistics(np.ones((1, 4)))
