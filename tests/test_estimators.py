"""The estimator's pure functions (sb3_reinforce.estimators) against values computed by hand, and against brute-force
loops over random episodes (hypothesis)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sb3_reinforce.estimators import (
    advantages,
    batch_baseline,
    bootstrap_rewards,
    critic_targets,
    pad_episodes,
    reward_to_go,
    standardize,
    step_returns,
    valid_mask,
)

# Two episodes: lengths 3 and 2, gamma = 0.5
REWARDS = pad_episodes(np.array([1.0, 2.0, 4.0, 3.0, 1.0]), np.array([3, 2]))
LENGTHS = np.array([3, 2])


def test_pad_episodes_and_mask():
    np.testing.assert_array_equal(REWARDS, [[1, 2, 4], [3, 1, 0]])
    np.testing.assert_array_equal(valid_mask(LENGTHS), [[True, True, True], [True, True, False]])


def test_reward_to_go_by_hand():
    # Episode 0: G_2 = 4, G_1 = 2 + 0.5*4 = 4, G_0 = 1 + 0.5*4 = 3
    # Episode 1: G_1 = 1, G_0 = 3 + 0.5*1 = 3.5; padding stays 0
    np.testing.assert_allclose(reward_to_go(REWARDS, 0.5), [[3, 4, 4], [3.5, 1, 0]])


@pytest.mark.parametrize("gamma", [0.0, 1.0])
def test_reward_to_go_extreme_gamma(gamma):
    expected = REWARDS.copy() if gamma == 0.0 else np.array([[7, 6, 4], [4, 1, 0]], dtype=float)
    np.testing.assert_allclose(reward_to_go(REWARDS, gamma), expected)


def test_total_return_weights_every_step():
    # R(tau_0) = 3, R(tau_1) = 3.5, on every valid step, 0 past the end
    np.testing.assert_allclose(step_returns(REWARDS, LENGTHS, 0.5, "total"), [[3, 3, 3], [3.5, 3.5, 0]])
    np.testing.assert_allclose(step_returns(REWARDS, LENGTHS, 0.5, "reward_to_go"), [[3, 4, 4], [3.5, 1, 0]])


def test_unknown_return_type():
    with pytest.raises(ValueError, match=r"return_type.*'bogus'"):
        step_returns(REWARDS, LENGTHS, 0.5, "bogus")


def test_truncation_bootstrap_is_added_to_last_reward():
    # Episodes of lengths 2, 3, 1; the first and the last were truncated, with V(s_T) = 8 and 2, gamma = 0.5:
    # gamma * V(s_T) = 4 and 1 go to their last rewards, the terminated episode is unchanged
    rewards = pad_episodes(np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.0]), np.array([2, 3, 1]))
    lengths, truncated = np.array([2, 3, 1]), np.array([True, False, True])
    bootstrapped = bootstrap_rewards(rewards, lengths, truncated, np.array([8.0, 2.0]), 0.5)
    np.testing.assert_array_equal(bootstrapped, [[1, 5, 0], [1, 1, 1], [2, 0, 0]])
    np.testing.assert_array_equal(rewards, [[1, 1, 0], [1, 1, 1], [1, 0, 0]])  # the input is left alone
    # Every return of the truncated episode includes it: G_1 = 1 + 4 = 5, G_0 = 1 + 2.5 = 3.5
    np.testing.assert_allclose(reward_to_go(bootstrapped, 0.5)[0], [3.5, 5.0, 0.0])


def test_mean_baseline_time_indexed_by_hand():
    returns = step_returns(REWARDS, LENGTHS, 0.5, "reward_to_go")  # [[3, 4, 4], [3.5, 1, 0]]
    # b_t = mean_j G^j_t with ended episodes counting 0: [3.25, 2.5, 2]
    np.testing.assert_allclose(batch_baseline(returns, "mean"), [[3.25, 2.5, 2.0], [3.25, 2.5, 2.0]])


def test_mean_baseline_total_is_mean_return():
    returns = step_returns(REWARDS, LENGTHS, 0.5, "total")
    # mean_j R(tau_j) = (3 + 3.5) / 2 at every step, also after episode 1 has ended
    np.testing.assert_allclose(batch_baseline(returns, "mean", "total"), np.full((2, 3), 3.25))
    # leave-one-out: each episode's baseline is the other's return
    np.testing.assert_allclose(batch_baseline(returns, "leave_one_out", "total"), [[3.5] * 3, [3.0] * 3])


def test_leave_one_out_is_rescaled_mean_baseline():
    rng = np.random.default_rng(0)
    lengths = np.array([5, 2, 7, 3])
    returns = step_returns(pad_episodes(rng.normal(size=lengths.sum()), lengths), lengths, 0.9, "reward_to_go")
    n = len(lengths)
    loo = returns - batch_baseline(returns, "leave_one_out")
    mean = returns - batch_baseline(returns, "mean")
    np.testing.assert_allclose(loo, n / (n - 1) * mean)


def test_leave_one_out_by_hand():
    # Three episodes of length 1 with returns 1, 2, 6: b_i = mean of the other two
    returns = np.array([[1.0], [2.0], [6.0]])
    np.testing.assert_allclose(batch_baseline(returns, "leave_one_out"), [[4.0], [3.5], [1.5]])
    # ... whereas "mean" includes the episode itself
    np.testing.assert_allclose(batch_baseline(returns, "mean"), [[3.0], [3.0], [3.0]])


def test_leave_one_out_time_indexed():
    returns = step_returns(REWARDS, LENGTHS, 0.5, "reward_to_go")  # [[3, 4, 4], [3.5, 1, 0]]
    # With two episodes each one's baseline is the other's return at the same step (0 once it has ended)
    np.testing.assert_allclose(batch_baseline(returns, "leave_one_out")[LENGTHS > 0][:, :2], [[3.5, 1.0], [3.0, 4.0]])
    assert batch_baseline(returns, "leave_one_out")[0, 2] == 0.0


def test_leave_one_out_needs_two_episodes():
    with pytest.raises(ValueError, match="at least 2 episodes, got 1"):
        batch_baseline(np.array([[1.0]]), "leave_one_out")


def test_none_baseline_is_zero():
    np.testing.assert_array_equal(batch_baseline(np.ones((2, 3)), "none"), np.zeros((2, 3)))


def test_standardize_matches_the_formula_and_gives_zeros_for_equal_advantages():
    advantages = np.array([1.0, 2.0, 4.0, -3.0])
    expected = (advantages - advantages.mean()) / (advantages.std(ddof=1) + 1e-8)
    np.testing.assert_allclose(standardize(advantages), expected)
    # Equal returns (every Acrobot episode timed out): no signal, and no rounding noise blown up to size 1
    equal = np.full(4000, -99.34295169575854)
    np.testing.assert_array_equal(standardize(equal), np.zeros(4000))
    np.testing.assert_array_equal(standardize(np.array([5.0])), [5.0])


# ---------------------------------------------------------------------------------------------------
# advantages and critic_targets: REWARDS = [[1, 2, 4], [3, 1, 0]], gamma = 0.5, G = [[3, 4, 4], [3.5, 1]]
# ---------------------------------------------------------------------------------------------------


VALUES = np.array([[1.0, 2.0, 3.0], [0.5, 4.0, 0.0]])  # V(s_t), zero-padded


@pytest.mark.parametrize(
    "return_type, baseline, options, expected",
    [
        ("reward_to_go", "none", {}, [3, 4, 4, 3.5, 1]),
        ("total", "none", {}, [3, 3, 3, 3.5, 3.5]),
        # Time-indexed mean b_t = [3.25, 2.5, 2]
        ("reward_to_go", "mean", {}, [-0.25, 1.5, 2, 0.25, -1.5]),
        # Leave-one-out: the other episode's G_t (0 once it has ended)
        ("reward_to_go", "leave_one_out", {}, [-0.5, 3, 4, 0.5, -3]),
        ("total", "leave_one_out", {}, [-0.5, -0.5, -0.5, 0.5, 0.5]),
        # V(s_t) for reward-to-go; V(s_0) of the episode for total
        ("reward_to_go", "value", {}, [2, 2, 1, 3, -3]),
        ("total", "value", {}, [2, 2, 2, 3, 3]),
        # gamma^t = [1, 0.5, 0.25] on G_t - V(s_t)
        ("reward_to_go", "value", dict(discount_steps=True), [2, 1, 0.25, 3, -1.5]),
    ],
)
def test_advantages_by_hand(return_type, baseline, options, expected):
    got = advantages(REWARDS, LENGTHS, 0.5, return_type, baseline, values=VALUES, **options)
    np.testing.assert_allclose(got, expected)
    assert got.dtype == np.float64


def test_normalized_advantages_are_the_standardized_raw_ones():
    raw = advantages(REWARDS, LENGTHS, 0.5, "reward_to_go", "none")
    got = advantages(REWARDS, LENGTHS, 0.5, "reward_to_go", "none", normalize_advantage=True)
    raw_by_hand = np.array([3, 4, 4, 3.5, 1])
    np.testing.assert_allclose(got, (raw_by_hand - raw_by_hand.mean()) / (raw_by_hand.std(ddof=1) + 1e-8))
    np.testing.assert_array_equal(got, standardize(raw))


def test_value_baseline_needs_values():
    with pytest.raises(ValueError, match="values=None"):
        advantages(REWARDS, LENGTHS, 0.5, "reward_to_go", "value")


def test_critic_targets_are_the_reward_to_go_whatever_the_return_type():
    np.testing.assert_allclose(critic_targets(REWARDS, LENGTHS, 0.5), [3, 4, 4, 3.5, 1])


# ---------------------------------------------------------------------------------------------------
# Returns and baselines against brute-force loops over random episodes (hypothesis)
# ---------------------------------------------------------------------------------------------------


lengths_st = st.lists(st.integers(1, 12), min_size=2, max_size=6)
gammas = st.sampled_from([0.0, 0.5, 0.9, 0.99, 1.0])


@st.composite
def episodes(draw):
    lengths = np.array(draw(lengths_st))
    rewards = draw(st.lists(st.floats(-10, 10, allow_nan=False), min_size=int(lengths.sum()), max_size=int(lengths.sum())))
    return lengths, pad_episodes(np.array(rewards), lengths)


def brute_force_returns(rewards, lengths, gamma, return_type):
    """One loop per episode and step, straight from the definitions."""
    out = np.zeros_like(rewards)
    for i, length in enumerate(lengths):
        for t in range(length):
            start = 0 if return_type == "total" else t
            out[i, t] = sum(gamma ** (k - start) * rewards[i, k] for k in range(start, length))
    return out


@pytest.mark.slow  # 200 random batches; the tests above check the same by hand
@settings(max_examples=200, deadline=None)
@given(episodes(), gammas, st.sampled_from(["total", "reward_to_go"]))
def test_returns_match_brute_force(data, gamma, return_type):
    lengths, rewards = data
    expected = brute_force_returns(rewards, lengths, gamma, return_type)
    np.testing.assert_allclose(step_returns(rewards, lengths, gamma, return_type), expected, rtol=1e-9, atol=1e-9)


@pytest.mark.slow  # 200 random batches; the tests above check the same by hand
@settings(max_examples=200, deadline=None)
@given(episodes(), gammas, st.sampled_from(["total", "reward_to_go"]), st.sampled_from(["none", "mean", "leave_one_out"]))
def test_baselines_match_brute_force(data, gamma, return_type, baseline):
    lengths, rewards = data
    returns = step_returns(rewards, lengths, gamma, return_type)
    got = batch_baseline(returns, baseline, return_type)
    n = len(lengths)
    for i, length in enumerate(lengths):
        for t in range(length):
            if baseline == "none":
                expected = 0.0
            else:
                # Episode j's return at step t: R(tau_j) for "total", else G^j_t (0 once episode j has ended)
                others = [
                    (returns[j, 0] if return_type == "total" else (returns[j, t] if t < lengths[j] else 0.0))
                    for j in range(n)
                    if baseline == "mean" or j != i
                ]
                expected = sum(others) / len(others)
            assert abs(got[i, t] - expected) < 1e-9
