"""Which episodes collect_rollouts puts in a batch, with envs interleaving episodes of different lengths, and what
happens to an unfinished batch when learn() ends or a callback stops it."""

import warnings

import numpy as np
import pytest
from gymnasium.wrappers import TimeLimit
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import DummyVecEnv

from sb3_reinforce import REINFORCE, SubsetDummyVecEnv
from tests.envs import ScriptedEnv
from tests.helpers import collect, make_model, quiet


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


# ---------------------------------------------------------------------------------------------------
# An unfinished batch: learn() ends or a callback stops it
# ---------------------------------------------------------------------------------------------------


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


def test_next_learn_call_continues_the_unfinished_batch():
    # Episodes of 30 steps, 2 envs, N = 2: one batch is 60 env steps (30 vector steps)
    env = SubsetDummyVecEnv([lambda: ScriptedEnv([30], tag=0), lambda: ScriptedEnv([30], tag=1)])
    model = quiet(lambda: REINFORCE("MlpPolicy", env, n_episodes=2, seed=0, baseline="none"))
    for _ in range(2):
        with pytest.warns(UserWarning, match="without a single update"):
            model.learn(20, reset_num_timesteps=False)
    assert model._n_updates == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        model.learn(20, reset_num_timesteps=False)  # 3 x 20 steps: the batch ends in the third call
    assert model.num_timesteps == 60
    assert model._n_updates == 1
    # The batch was the two complete 30-step episodes, not a fresh start after every call
    assert model.logger.name_to_value.get("train/batch_steps", 60) == 60
    assert sorted(env_idx for env_idx, *_ in model.rollout_buffer.episodes) == [0, 1]
    assert [ep.length for ep in model.rollout_buffer.episodes] == [30, 30]
    # With reset_num_timesteps=True the envs are reset: an unfinished batch is dropped
    model.learn(10)
    assert model._batch_progress is not None and model._batch_progress.n_env_steps == 10


def test_callback_stop_keeps_the_batch_for_the_next_call():
    class StopAt(BaseCallback):
        def _on_step(self):
            return self.n_calls < 5

    env = SubsetDummyVecEnv([lambda: ScriptedEnv([8])])
    model = quiet(lambda: REINFORCE("MlpPolicy", env, n_episodes=1, seed=0, baseline="none"))
    with pytest.warns(UserWarning, match="without a single update"):
        model.learn(100, callback=StopAt())
    assert model.num_timesteps == 5
    model.learn(3, reset_num_timesteps=False)
    # 5 + 3 steps: the episode of 8 steps ended in the second call, and was trained on whole
    assert model._n_updates == 1
    assert [ep.length for ep in model.rollout_buffer.episodes] == [8]


class StopAtCall(BaseCallback):
    def __init__(self, n_calls):
        super().__init__()
        self.stop_at = n_calls

    def _on_step(self):
        return self.n_calls < self.stop_at


class RecordBatches(BaseCallback):
    def __init__(self):
        super().__init__()
        self.batches = []

    def _on_step(self):
        return True

    def _on_rollout_end(self):
        self.batches.append(self.model.rollout_buffer.get())


@pytest.mark.parametrize("stop_at", [1, 3, 4, 5])
def test_learning_after_a_callback_stop_uses_complete_episodes(stop_at):
    # A Stop* callback ends learn() mid-rollout; learn(reset_num_timesteps=False) must then still train on exact,
    # complete episodes. ScriptedEnv: every episode lasts 3 steps, observation [tag, k, t], reward 10k + t.
    env = DummyVecEnv([lambda: TimeLimit(ScriptedEnv([3]), max_episode_steps=100)])
    model = REINFORCE("MlpPolicy", env, n_episodes=1, baseline="none", seed=0)
    model.learn(100, callback=StopAtCall(stop_at))
    assert model.num_timesteps == stop_at
    recorder = RecordBatches()
    model.learn(9, callback=recorder, reset_num_timesteps=False)
    assert recorder.batches
    for batch in recorder.batches:
        obs = batch.observations.numpy()
        episode = int(obs[0, 1])
        assert batch.lengths.tolist() == [3], f"episode {episode} stored as {obs.tolist()}"
        np.testing.assert_array_equal(obs[:, 1:], [[episode, 0], [episode, 1], [episode, 2]])
        np.testing.assert_array_equal(batch.rewards[0], 10 * episode + np.arange(3))


# ---------------------------------------------------------------------------------------------------
# The training env used outside learn(): evaluate_policy(model, model.get_env()) between two learn() calls
# ---------------------------------------------------------------------------------------------------


def test_envs_used_outside_learn_drop_the_unfinished_batch_instead_of_splicing_episodes():
    from stable_baselines3.common.evaluation import evaluate_policy

    # Episodes of 30 steps, 2 envs, N = 2; observation [tag, k, t] names episode k's step t
    env = SubsetDummyVecEnv([lambda: ScriptedEnv([30], tag=0), lambda: ScriptedEnv([30], tag=1)])
    model = quiet(lambda: REINFORCE("MlpPolicy", env, n_episodes=2, seed=0, baseline="none"))
    with pytest.warns(UserWarning, match="without a single update"):
        model.learn(20)  # each env 10 steps into episode 0: the batch is unfinished
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # evaluate_policy's own warning about Monitor
        evaluate_policy(model, model.get_env(), n_eval_episodes=2)  # resets the envs: their episode 0 is gone
    recorder = RecordBatches()
    with pytest.warns(UserWarning, match=r"reset or stepped \d+ times outside learn\(\).*The unfinished batch \(0 of 2"):
        model.learn(60, callback=recorder, reset_num_timesteps=False)
    assert model._n_updates == 1 and len(recorder.batches) == 1
    obs = recorder.batches[0].observations.numpy()
    # Two whole episodes begun after the reset: one episode index each and steps 0..29, none spliced from two
    for episode in np.split(obs, np.cumsum(recorder.batches[0].lengths.tolist())[:-1]):
        assert len(set(episode[:, 1].tolist())) == 1 and episode[:, 2].tolist() == list(range(30))


def test_learn_continues_without_a_warning_when_nobody_used_the_envs_in_between():
    env = SubsetDummyVecEnv([lambda: ScriptedEnv([30], tag=0), lambda: ScriptedEnv([30], tag=1)])
    model = quiet(lambda: REINFORCE("MlpPolicy", env, n_episodes=2, seed=0, baseline="none"))
    with pytest.warns(UserWarning, match="without a single update"):
        model.learn(20)
    model.get_env().get_attr("t")  # reading the envs does not move them
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        model.learn(40, reset_num_timesteps=False)
    assert model._n_updates == 1 and [ep.length for ep in model.rollout_buffer.episodes] == [30, 30]
