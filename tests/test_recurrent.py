"""Recurrent policies (sb3-contrib's LSTM policies) trained on whole episodes, unrolled from a zero state: the
training-time log-probabilities are the acting policy's, the values and the bootstrap match a step-by-step run, and
the estimate is the exact gradient of a memory task."""

import importlib.util
import warnings

import numpy as np
import pytest
import torch as th
from gymnasium.wrappers import TimeLimit
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import DummyVecEnv

from sb3_reinforce import REINFORCE, SubsetDummyVecEnv
from sb3_reinforce.extras import MissingExtraError
from sb3_reinforce.recurrent import critic_lstm, unrolled_log_prob, unrolled_values, zero_states
from tests.envs import CueMemoryEnv, ScriptedEnv
from tests.helpers import quiet

pytest.importorskip("sb3_contrib")

SMALL = dict(lstm_hidden_size=8, net_arch=dict(pi=[16], vf=[16]))
CRITICS = {
    "own LSTM": {},
    "shared LSTM": dict(shared_lstm=True, enable_critic_lstm=False),
    "no LSTM": dict(enable_critic_lstm=False),
}


def lstm_model(env, **kwargs):
    kwargs.setdefault("seed", 0)
    policy_kwargs = {**SMALL, **kwargs.pop("policy_kwargs", {})}
    return quiet(lambda: REINFORCE("MlpLstmPolicy", env, policy_kwargs=policy_kwargs, **kwargs))


@pytest.mark.parametrize("baseline", ["none", "mean", "leave_one_out", "value"])
@pytest.mark.parametrize("return_type", ["total", "reward_to_go"])
def test_every_baseline_and_return_type_trains_an_lstm_policy(baseline, return_type):
    env = make_vec_env("CartPole-v1", n_envs=2, seed=0, vec_env_cls=SubsetDummyVecEnv)
    model = lstm_model(env, n_episodes=4, baseline=baseline, return_type=return_type, n_critic_updates=2)
    before = {name: p.detach().clone() for name, p in model.policy.named_parameters()}
    model.learn(400)
    assert model._n_updates >= 1
    moved = {name for name, p in model.policy.named_parameters() if not th.equal(p, before[name])}
    assert "lstm_actor.weight_ih_l0" in moved and "action_net.weight" in moved
    # The critic's LSTM is fitted only as the value baseline
    assert ("lstm_critic.weight_ih_l0" in moved) == (baseline == "value")


@pytest.mark.parametrize("critic", list(CRITICS))
def test_the_value_baseline_works_with_each_recurrent_critic(critic):
    env = make_vec_env("CartPole-v1", n_envs=2, seed=0, vec_env_cls=SubsetDummyVecEnv)
    model = lstm_model(env, n_episodes=4, baseline="value", n_critic_updates=2, policy_kwargs=CRITICS[critic])
    value_head = model.policy.value_net.weight.detach().clone()
    actor_lstm = model.policy.lstm_actor.weight_hh_l0.detach().clone()
    model.learn(400)
    assert not th.equal(model.policy.value_net.weight, value_head)
    assert not th.equal(model.policy.lstm_actor.weight_hh_l0, actor_lstm)
    assert np.isfinite(model.logger.name_to_value["train/value_loss"])


@pytest.mark.parametrize("policy", ["CnnLstmPolicy", "MultiInputLstmPolicy"])
def test_image_and_dict_observations_train_their_lstm_policies(policy):
    from tests.envs import dict_env
    from tests.test_spaces import SMALL_CNN, image_env

    env = DummyVecEnv([image_env if policy == "CnnLstmPolicy" else dict_env])
    policy_kwargs = {**SMALL, **(SMALL_CNN if policy == "CnnLstmPolicy" else {})}
    model = quiet(lambda: REINFORCE(policy, env, n_episodes=2, baseline="value", policy_kwargs=policy_kwargs, seed=0))
    lstm = model.policy.lstm_actor.weight_ih_l0.detach().clone()
    model.learn(60)
    assert model._n_updates >= 1 and not th.equal(model.policy.lstm_actor.weight_ih_l0, lstm)


class RecordActingLogProbs(BaseCallback):
    """The log-probability of each action under the policy that took it, by (env, row of the rollout storage), and
    at the end of each batch the training-time log-probabilities of the same steps."""

    def __init__(self):
        super().__init__()
        self.acting: dict[tuple[int, int], float] = {}
        self.pairs: list[tuple[np.ndarray, np.ndarray]] = []

    def _on_step(self):
        distribution, actions = self.locals["distribution"], th.as_tensor(self.locals["actions"])
        log_prob = distribution.log_prob(actions.flatten()).numpy()
        for env_idx in self.locals["stepped"]:
            self.acting[(int(env_idx), self.model.rollout_buffer.pos)] = float(log_prob[env_idx])
        return True

    def _on_rollout_end(self):
        buffer = self.model.rollout_buffer
        acting = [self.acting[(ep.env_idx, row)] for ep in buffer.episodes for row in range(ep.start, ep.end + 1)]
        batch = buffer.get()
        with th.no_grad():
            actions = batch.actions.long().flatten()
            trained, _ = unrolled_log_prob(self.model.policy, batch.observations, actions, batch.lengths)
        self.pairs.append((np.array(acting), trained.numpy()))


@pytest.mark.parametrize("vec_env_cls", [SubsetDummyVecEnv, DummyVecEnv])
@pytest.mark.parametrize("pieces", [1, 7])
def test_training_log_probs_are_those_of_the_policy_that_acted(vec_env_cls, pieces):
    # 3 envs for N = 2: with a Subset VecEnv one env waits, with a DummyVecEnv envs run episodes no batch uses and
    # carry their state across updates. In 7 learn() calls, a batch is continued across calls.
    env = make_vec_env("CartPole-v1", n_envs=3, seed=1, vec_env_cls=vec_env_cls)
    model = lstm_model(env, n_episodes=2, learning_rate=1e-2)
    recorder = RecordActingLogProbs()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # learn() calls that end without an update
        for _ in range(pieces):
            model.learn(1400 // pieces, callback=recorder, reset_num_timesteps=False)
    assert len(recorder.pairs) >= 5
    for acting, trained in recorder.pairs:
        np.testing.assert_allclose(trained, acting, atol=1e-5)


def test_unrolled_values_and_bootstrap_equal_a_step_by_step_run():
    # Episodes of 4 and 2 steps, the first truncated; V(s_T) is the critic's value after the whole episode
    env = DummyVecEnv([lambda: TimeLimit(ScriptedEnv([4, 2], truncate=(0,)), max_episode_steps=100)])
    model = lstm_model(env, baseline="value")
    observations = th.tensor([[0, 0, t] for t in range(4)] + [[0, 1, t] for t in range(2)], dtype=th.float32)
    terminal = th.tensor([[0, 0, 4]], dtype=th.float32)
    with th.no_grad():
        values, terminal_values = unrolled_values(
            model.policy, observations, np.array([4, 2]), np.array([True, False]), terminal
        )
        expected = []
        for episode in (th.cat([observations[:4], terminal]), observations[4:]):
            states = zero_states(critic_lstm(model.policy), 1, model.device)
            for t, obs in enumerate(episode):
                start = th.tensor([float(t == 0)])
                expected.append(model.policy.predict_values(obs[None], states, start).item())
                _, states = model.policy._process_sequence(
                    model.policy.extract_features(obs[None], model.policy.vf_features_extractor),
                    states,
                    start,
                    critic_lstm(model.policy),
                )
    np.testing.assert_allclose(values.numpy(), expected[:4] + expected[5:], atol=1e-6)
    np.testing.assert_allclose(terminal_values.numpy(), [expected[4]], atol=1e-6)


def test_predict_follows_recurrent_ppo_and_survives_save_and_load(tmp_path):
    env = make_vec_env(CueMemoryEnv, n_envs=2, seed=0, vec_env_cls=SubsetDummyVecEnv)
    model = lstm_model(env, n_episodes=4)
    model.learn(200)
    obs = env.reset()
    actions, states = model.predict(obs, state=None, episode_start=np.ones(2, dtype=bool), deterministic=True)
    assert actions.shape == (2,) and states[0].shape == (1, 2, 8)
    model.save(tmp_path / "lstm")
    loaded = REINFORCE.load(tmp_path / "lstm", env=env)
    again, again_states = loaded.predict(obs, state=None, episode_start=np.ones(2, dtype=bool), deterministic=True)
    np.testing.assert_array_equal(again, actions)
    np.testing.assert_allclose(again_states[0], states[0])
    mean, _ = evaluate_policy(loaded, env, n_eval_episodes=4)  # carries the states as for RecurrentPPO
    assert 0.0 <= mean <= 1.0
    loaded.learn(100, reset_num_timesteps=False)
    assert loaded._n_updates >= 1


def test_lstm_policies_without_sb3_contrib_fail_in_one_line(monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *args: None if name == "sb3_contrib" else real_find_spec(name, *args)
    )
    with pytest.raises(MissingExtraError, match=r"needs the recurrent extra .*pip install 'sb3-reinforce\[recurrent\]'"):
        REINFORCE("MlpLstmPolicy", "CartPole-v1")


# ---------------------------------------------------------------------------------------------------
# Exactness on a memory task: the average update is the analytic gradient
# ---------------------------------------------------------------------------------------------------

N_BATCHES = 1500


def exact_gradient(policy, length):
    """
    J(theta) = 1/2 sum over both cues of pi(correct turn | the episode's observations): the actions before the turn
    change nothing, and the LSTM reads the observations only. Autograd through the unrolled LSTM gives grad J.
    """
    observations = th.as_tensor(np.concatenate([CueMemoryEnv.observations(cue, length) for cue in (1.0, -1.0)]))
    correct = th.tensor([1] * length + [0] * length)
    log_prob, _ = unrolled_log_prob(policy, observations, correct, np.array([length, length]))
    objective = 0.5 * (log_prob[length - 1].exp() + log_prob[2 * length - 1].exp())
    policy.zero_grad()
    objective.backward()
    return {name: p.grad.clone() for name, p in policy.named_parameters() if p.grad is not None}


@pytest.mark.slow  # 1500 batches
def test_reinforce_with_an_lstm_estimates_the_exact_gradient_of_a_memory_task():
    length = 4
    env = SubsetDummyVecEnv([lambda: CueMemoryEnv(length)] * 4)
    # A fixed policy (learning rate 0, plain SGD, no clipping) and the raw estimator: R(tau) with no baseline
    model = lstm_model(
        env,
        n_episodes=4,
        learning_rate=0.0,
        baseline="none",
        return_type="total",
        normalize_advantage=False,
        max_grad_norm=1e9,
        policy_kwargs=dict(optimizer_class=th.optim.SGD, optimizer_kwargs={}, net_arch=dict(pi=[], vf=[])),
    )
    # Weights of size 1, not SB3's small initial action layer: the policy then depends on the cue it remembers, and
    # grad J is large enough (up to about 0.1) to be told apart from 0 in 1500 batches
    generator = th.Generator().manual_seed(0)
    with th.no_grad():
        for parameter in model.policy.parameters():
            parameter.copy_(th.randn(parameter.shape, generator=generator))
    exact = exact_gradient(model.policy, length)
    _, callback = model._setup_learn(10**9, None)
    estimates = {name: [] for name in exact}
    for _ in range(N_BATCHES):
        assert model.collect_rollouts(model.env, callback, model.rollout_buffer)
        model.train()
        for name, p in model.policy.named_parameters():
            if name in estimates:
                estimates[name].append(-p.grad.clone())  # the loss is -J: its gradient is -(the estimate)
    # The memory is in the LSTM's weights: the exact gradient reaches them through the whole episode
    assert exact["lstm_actor.weight_ih_l0"].abs().max() > 0.03
    for name, grad in exact.items():
        samples = th.stack(estimates[name]).double()
        mean, standard_error = samples.mean(0), samples.std(0) / np.sqrt(N_BATCHES)
        z = ((mean - grad.double()) / standard_error.clamp_min(1e-12)).abs()
        assert z.max() < 5.0, f"{name}: the average update is {z.max():.1f} standard errors from grad J"
    # And the average is informative: along grad J it is many standard errors from 0
    direction = th.cat([grad.flatten() for grad in exact.values()]).double()
    per_batch = zip(*estimates.values(), strict=True)
    projected = th.stack([th.cat([s.flatten() for s in step]) for step in per_batch]).double() @ direction
    assert projected.mean() > 5 * projected.std() / np.sqrt(N_BATCHES)
    np.testing.assert_allclose(projected.mean().item(), (direction @ direction).item(), rtol=0.15)


@pytest.mark.slow  # RecurrentPPO through rl_zoo3, in its own process
def test_compare_runs_the_lstm_entry_and_recurrent_ppo_with_their_zoo_entries(tmp_path):
    # The comparison issue 18 asks for: REINFORCE's CartPoleNoVel-v1 entry (zoo_configs/reinforce.yml) against
    # ppo_lstm (sb3-contrib's RecurrentPPO) with rl_zoo3's entry for the velocity-masked CartPole, each evaluated with
    # its LSTM states carried through evaluate_policy
    from sb3_contrib.common.recurrent.policies import RecurrentActorCriticPolicy

    from sb3_reinforce.compare import CompareArgs, compare

    args = CompareArgs(
        env="CartPoleNoVel-v1", algos=["reinforce", "ppo_lstm"], seeds=[0], n_timesteps=1024, eval_freq=512,
        n_eval_episodes=2, final_eval_episodes=2, out_dir=str(tmp_path),
    )  # fmt: skip
    result = compare(args)
    assert not result.failures
    runs = {run["algo"]: run for run in result.runs}
    assert sorted(runs) == ["ppo_lstm", "reinforce"]
    for run in runs.values():
        assert run["num_timesteps"] >= 1024
        assert 0 < run["curve"][-1][2] <= 500  # (steps, seconds, mean, std): a CartPole return at the final evaluation
    assert runs["reinforce"]["entry_value"]["policy"] == "MlpLstmPolicy"
    model = REINFORCE.load(f"{runs['reinforce']['run_dir']}/CartPoleNoVel-v1.zip")
    assert isinstance(model.policy, RecurrentActorCriticPolicy) and model.policy.lstm_critic is not None


def test_the_lunarlander_novel_v3_entry_of_recurrent_ppo_is_rl_zoo3s_v2_entry():
    # benchmarks/ppo_lstm.yml only renames rl_zoo3's entry (gymnasium 1.4 has no LunarLander-v2): same settings
    from pathlib import Path

    import yaml

    from sb3_reinforce.zoo import zoo_entry

    config = str(Path(__file__).parents[1] / "benchmarks" / "ppo_lstm.yml")
    ours, _, key = zoo_entry("ppo_lstm", "LunarLanderNoVel-v3", config=config)
    _, rl_zoo3_file, _ = zoo_entry("ppo_lstm", "CartPoleNoVel-v1")  # rl_zoo3's own ppo_lstm.yml
    theirs = yaml.safe_load(Path(rl_zoo3_file).read_text())["LunarLanderNoVel-v2"]
    assert key == "LunarLanderNoVel-v3" and ours == theirs
