"""Returns and baselines against values computed by hand."""

import numpy as np
import pytest

from sb3_reinforce.buffers import batch_baseline, pad_episodes, reward_to_go, step_returns, valid_mask

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
    # A truncated episode with V(s_T) = 8 and gamma = 0.5: the caller adds gamma * V(s_T) = 4 to r_{T-1}
    rewards = pad_episodes(np.array([1.0, 1.0, 1.0]), np.array([3]))
    rewards[0, 2] += 0.5 * 8.0
    # G_2 = 1 + 4 = 5, G_1 = 1 + 2.5 = 3.5, G_0 = 1 + 1.75 = 2.75
    np.testing.assert_allclose(reward_to_go(rewards, 0.5), [[2.75, 3.5, 5.0]])


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
    from sb3_reinforce.buffers import standardize

    advantages = np.array([1.0, 2.0, 4.0, -3.0])
    expected = (advantages - advantages.mean()) / (advantages.std(ddof=1) + 1e-8)
    np.testing.assert_allclose(standardize(advantages), expected)
    # Equal returns (every Acrobot episode timed out): no signal, and no rounding noise blown up to size 1
    equal = np.full(4000, -99.34295169575854)
    np.testing.assert_array_equal(standardize(equal), np.zeros(4000))
    np.testing.assert_array_equal(standardize(np.array([5.0])), [5.0])
