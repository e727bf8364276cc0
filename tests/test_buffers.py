"""Episode storage and the batch rule (sb3_reinforce.buffers): which episodes BatchProgress admits, against simulated
schedules (hypothesis), and how EpisodeRolloutBuffer stores and lays them out."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sb3_reinforce.buffers import BatchProgress
from sb3_reinforce.estimators import valid_mask
from tests.envs import ScriptedEnv
from tests.helpers import collect, make_model

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


@pytest.mark.slow  # 300 simulated schedules; test_collection checks the rule on scripted ones
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


@pytest.mark.slow  # 300 simulated schedules, each run twice
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


# ---------------------------------------------------------------------------------------------------
# Storage
# ---------------------------------------------------------------------------------------------------


def test_truncated_episode_keeps_terminal_observation():
    model, callback = make_model([lambda: ScriptedEnv([2, 3], tag=7, truncate=(1,))], 2)
    buffer = collect(model, callback)
    batch = buffer.get()
    np.testing.assert_array_equal(batch.truncated, [False, True])
    # Terminal observation of episode 1 is [tag, k, t] at t = 3
    np.testing.assert_array_equal(batch.terminal_observations.numpy(), [[7, 1, 3]])


def test_batch_is_flattened_episode_by_episode():
    model, callback = make_model([lambda: ScriptedEnv([3, 1], tag=0), lambda: ScriptedEnv([2, 5], tag=1)], 3)
    buffer = collect(model, callback)
    batch = buffer.get()
    obs = batch.observations.numpy()
    # Within each episode the stored t runs 0..L-1, matching the padded layout used for returns
    padded_t = np.zeros(batch.rewards.shape)
    padded_t[valid_mask(batch.lengths)] = obs[:, 2]
    for length, row in zip(batch.lengths, padded_t, strict=False):
        np.testing.assert_array_equal(row[:length], np.arange(length))


def test_storage_grows_with_episodes_and_is_reused():
    model, callback = make_model([lambda: ScriptedEnv([300])], 1, rollout_buffer_kwargs=dict(initial_capacity=16))
    collect(model, callback)
    capacity = model.rollout_buffer.capacity
    assert capacity == 512  # 16 doubled until 300 rows fit
    for _ in range(3):
        collect(model, callback)
    assert model.rollout_buffer.capacity == capacity
