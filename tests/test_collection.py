"""Which episodes enter a batch, and what is stored of them, with envs interleaving episodes of different lengths."""

import numpy as np
import pytest
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import DummyVecEnv

from sb3_reinforce import REINFORCE, SubsetDummyVecEnv
from sb3_reinforce.buffers import valid_mask
from tests.envs import ScriptedEnv


def make_model(env_fns, n_episodes, **kwargs):
    kwargs.setdefault("baseline", "none")
    with pytest.warns(UserWarning, match="TimeLimit"):
        model = REINFORCE("MlpPolicy", DummyVecEnv(env_fns), n_episodes=n_episodes, seed=0, **kwargs)
    _, callback = model._setup_learn(10_000, None)
    return model, callback


def collect(model, callback):
    assert model.collect_rollouts(model.env, callback, model.rollout_buffer)
    return model.rollout_buffer


def episode_ids(buffer):
    """(tag, episode index) of each stored episode, read back from the stored observations."""
    batch = buffer.get()
    obs = batch.observations.numpy()
    starts = np.concatenate([[0], np.cumsum(batch.lengths)[:-1]])
    return [(int(obs[s, 0]), int(obs[s, 1])) for s in starts], batch


def test_first_episodes_to_start_form_the_batch():
    # env 0 (tag 0): episodes of length 3, 1, 3, ...; env 1 (tag 1): 2, 5, ...
    model, callback = make_model([lambda: ScriptedEnv([3, 1], tag=0), lambda: ScriptedEnv([2, 5], tag=1)], 3)
    buffer = collect(model, callback)
    # Row 0: both envs start (places 1 and 2). Env 1 ends its length-2 episode at row 1 and starts its next at
    # row 2 (place 3). Env 0's second episode starts at row 3: the batch is full, so it is discarded.
    assert sorted((env, start, end) for env, start, end, _, _ in buffer.episodes) == [(0, 0, 2), (1, 0, 1), (1, 2, 6)]
    ids, batch = episode_ids(buffer)
    assert sorted(ids) == [(0, 0), (1, 0), (1, 1)]
    # Steps and rewards are the episodes' own, in order: reward of step t of episode k is 10k + t
    for (_tag, k), length, rewards in zip(ids, batch.lengths, batch.rewards, strict=False):
        np.testing.assert_array_equal(rewards[:length], 10 * k + np.arange(length))
    # 7 rows x 2 envs = 14 env steps, 10 used
    assert buffer.pos == 7
    assert model.num_timesteps == 14
    assert model._n_discarded_steps == 4


def test_residual_episode_of_previous_policy_is_discarded():
    # env 0: 3, 2, 3, 2, ...; env 1: 2, 5, ...
    model, callback = make_model([lambda: ScriptedEnv([3, 2], tag=0), lambda: ScriptedEnv([2, 5], tag=1)], 3)
    buffer = collect(model, callback)
    assert sorted((env, start, end) for env, start, end, _, _ in buffer.episodes) == [(0, 0, 2), (1, 0, 1), (1, 2, 6)]
    # The batch ends at row 6, when env 0 is two steps into its episode 2 (rows 5-7), begun under the old policy.
    buffer = collect(model, callback)
    # Row 0: env 0 finishes that episode, unused; env 1 starts its episode 2 (length 2). Row 1: env 0 starts its
    # episode 3. Row 2: env 1 starts its episode 3 (length 5), the third place.
    ids, _ = episode_ids(buffer)
    assert sorted(ids) == [(0, 3), (1, 2), (1, 3)]
    assert sorted((env, start, end) for env, start, end, _, _ in buffer.episodes) == [(0, 1, 2), (1, 0, 1), (1, 2, 6)]
    # Discarded: env 0 rows 3-6 of the first rollout and row 0 of the second (its old episode), plus env 0 rows
    # 3-6 of the second rollout
    assert model._n_discarded_steps == 4 + 1 + 4


def test_single_env_discards_nothing():
    model, callback = make_model([lambda: ScriptedEnv([4, 2, 7])], 5)
    for _ in range(3):
        buffer = collect(model, callback)
        ids, _batch = episode_ids(buffer)
        assert len(ids) == 5
    assert model._n_discarded_steps == 0
    assert model.num_timesteps == sum(([4, 2, 7] * 5)[:15])


def test_more_envs_than_episodes_uses_lowest_indices_on_ties():
    model, callback = make_model([lambda i=i: ScriptedEnv([2], tag=i) for i in range(4)], 2)
    buffer = collect(model, callback)
    assert sorted(env for env, *_ in buffer.episodes) == [0, 1]


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


class StopAfter(BaseCallback):
    def __init__(self, n_calls):
        super().__init__()
        self.stop_at = n_calls
        self.seen_dones = []

    def _on_step(self):
        self.seen_dones.append(self.locals["dones"].copy())
        return self.n_calls < self.stop_at


def test_callback_can_stop_collection_and_sees_dones():
    env = DummyVecEnv([lambda: ScriptedEnv([5])])
    with pytest.warns(UserWarning, match="TimeLimit"):
        model = REINFORCE("MlpPolicy", env, n_episodes=4, baseline="none", seed=0)
    callback = StopAfter(7)
    model.learn(1_000, callback=callback)
    # Stopped mid-batch at step 7: no update was made from the incomplete batch
    assert model.num_timesteps == 7
    assert model._n_updates == 0
    assert [bool(d[0]) for d in callback.seen_dones] == [False] * 4 + [True] + [False] * 2


# Stepping only the envs the batch needs (SubsetDummyVecEnv): the same batch rule, without idle steps or old tails


def make_subset_model(env_fns, n_episodes, **kwargs):
    with pytest.warns(UserWarning, match="TimeLimit"):
        model = REINFORCE("MlpPolicy", SubsetDummyVecEnv(env_fns), n_episodes=n_episodes, seed=0, baseline="none", **kwargs)
    _, callback = model._setup_learn(10_000, None)
    return model, callback


def test_subset_envs_wait_instead_of_starting_unused_episodes():
    # env 0: 3, 1, 3, 1, ...; env 1: 2, 5, 2, 5, ...
    model, callback = make_subset_model([lambda: ScriptedEnv([3, 1], tag=0), lambda: ScriptedEnv([2, 5], tag=1)], 3)
    buffer = collect(model, callback)
    # Same batch as with every env stepped. But env 0, whose next episode cannot enter, is not stepped after row 2:
    # rows 0-2 step both envs, rows 3-6 env 1 only, so 10 steps are taken, all of them used.
    assert sorted((env, start, end) for env, start, end, _, _ in buffer.episodes) == [(0, 0, 2), (1, 0, 1), (1, 2, 6)]
    assert model.num_timesteps == 10
    # Next batch: env 0 waited at the start of its episode 1 (length 1), env 1 at its episode 2 (length 2). Row 0:
    # both start. Row 1: env 0 starts its episode 2 (length 3, rows 1-3), the third place; env 1 then waits.
    buffer = collect(model, callback)
    ids, _ = episode_ids(buffer)
    assert sorted(ids) == [(0, 1), (0, 2), (1, 2)]
    assert sorted((env, start, end) for env, start, end, _, _ in buffer.episodes) == [(0, 0, 0), (0, 1, 3), (1, 0, 1)]
    assert model.num_timesteps == 10 + 6
    assert model._n_discarded_steps == 0


def test_subset_more_envs_than_episodes_leaves_the_rest_unstepped():
    model, callback = make_subset_model([lambda i=i: ScriptedEnv([2], tag=i) for i in range(4)], 2)
    buffer = collect(model, callback)
    assert sorted(env for env, *_ in buffer.episodes) == [0, 1]
    assert model.num_timesteps == 4
    # Envs 2 and 3 were never stepped: their first episode is still to come
    assert [e.episode for e in model.env.envs[2:]] == [0, 0]
    assert [e.t for e in model.env.envs[2:]] == [0, 0]
