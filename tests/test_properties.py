"""Property-based tests (hypothesis) of the pure functions: returns, baselines and the batch rule."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sb3_reinforce.buffers import BatchProgress
from sb3_reinforce.estimators import batch_baseline, pad_episodes, step_returns

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


@settings(max_examples=200, deadline=None)
@given(episodes(), gammas, st.sampled_from(["total", "reward_to_go"]))
def test_returns_match_brute_force(data, gamma, return_type):
    lengths, rewards = data
    expected = brute_force_returns(rewards, lengths, gamma, return_type)
    np.testing.assert_allclose(step_returns(rewards, lengths, gamma, return_type), expected, rtol=1e-9, atol=1e-9)


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


# ---------------------------------------------------------------------------------------------------
# The batch rule, against a simulated schedule of envs stepping in lockstep or only when needed
# ---------------------------------------------------------------------------------------------------


def simulate(episode_lengths, n_episodes, step_only_needed, start_offsets):
    """
    Run BatchProgress over envs whose successive episode lengths are given, as collect_rollouts drives it.

    :param episode_lengths: Per env, the lengths of its episodes in order (as many as the simulation may need)
    :param start_offsets: Per env, steps already taken in its current episode at the update (0: at a boundary)
    :return: The batch's episodes as (env, episode index, start row, end row), and each env's stepped rows
    """
    n_envs = len(episode_lengths)
    episode = [0] * n_envs
    t = list(start_offsets)
    episode_starts = np.array([offset == 0 for offset in start_offsets])
    progress = BatchProgress(n_envs, n_episodes)
    batch, row = [], 0
    while not progress.complete:
        progress.start_episodes(episode_starts, row)
        running_ids = {int(e): (episode[e], int(progress.start_row[e])) for e in np.flatnonzero(progress.running)}
        wanted = progress.running | ~episode_starts
        stepped = np.flatnonzero(wanted) if step_only_needed else np.arange(n_envs)
        for env_idx in stepped:
            t[env_idx] += 1
            done = t[env_idx] >= episode_lengths[env_idx][episode[env_idx]]
            episode_starts[env_idx] = done
            if done:
                start = progress.finish_episode(int(env_idx))
                if start is not None:
                    ep, start_row = running_ids[int(env_idx)]
                    batch.append((int(env_idx), ep, start_row, row))
                episode[env_idx] += 1
                t[env_idx] = 0
        row += 1
    return batch


schedules = st.integers(1, 5).flatmap(
    lambda n_envs: st.tuples(
        st.lists(st.lists(st.integers(1, 9), min_size=40, max_size=40), min_size=n_envs, max_size=n_envs),
        st.integers(1, 6),
        st.booleans(),
        st.lists(st.integers(0, 3), min_size=n_envs, max_size=n_envs),
    )
)


@settings(max_examples=300, deadline=None)
@given(schedules)
def test_batch_rule_takes_complete_episodes_that_start_after_the_update(schedule):
    episode_lengths, n_episodes, step_only_needed, offsets = schedule
    # An env in the middle of an episode (offset > 0) must not have finished it already
    offsets = [min(offset, lengths[0] - 1) for offset, lengths in zip(offsets, episode_lengths, strict=True)]
    batch = simulate(episode_lengths, n_episodes, step_only_needed, offsets)
    assert len(batch) == n_episodes
    for env_idx, ep, start_row, end_row in batch:
        # Complete: it ran from its first step to its last, in consecutive rows
        assert end_row - start_row + 1 == episode_lengths[env_idx][ep]
        # Started after the update: never the episode an env was in the middle of
        assert not (ep == 0 and offsets[env_idx] > 0)


@settings(max_examples=300, deadline=None)
@given(schedules, st.data())
def test_batch_rule_does_not_look_at_an_episode_before_choosing_it(schedule, data):
    # Changing the length of an episode cannot change whether it enters the batch: the rule decides at its start.
    # (It may change which *later* episodes enter, since they start at other times.)
    episode_lengths, n_episodes, step_only_needed, offsets = schedule
    offsets = [min(offset, lengths[0] - 1) for offset, lengths in zip(offsets, episode_lengths, strict=True)]
    batch = simulate(episode_lengths, n_episodes, step_only_needed, offsets)
    env_idx, ep, _, _ = data.draw(st.sampled_from(batch))
    changed = [list(lengths) for lengths in episode_lengths]
    changed[env_idx][ep] = data.draw(st.integers(1, 9))
    chosen = {(e, k) for e, k, _, _ in simulate(changed, n_episodes, step_only_needed, offsets)}
    assert (env_idx, ep) in chosen
    # And the batch's episodes that started no later than it are the same
    start = next(s for e, k, s, _ in batch if (e, k) == (env_idx, ep))
    earlier = {(e, k) for e, k, s, _ in batch if s <= start}
    assert earlier <= chosen
