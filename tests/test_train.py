"""What REINFORCE.train() minimizes and steps: the policy loss against advantages written out by hand for a scripted
batch, the entropy term, and the critic's fit with its own optimizer."""

import numpy as np
import pytest
import torch as th
from stable_baselines3.common.vec_env import DummyVecEnv

from sb3_reinforce import REINFORCE
from tests.envs import ScriptedEnv

# Batch with gamma = 0.5 (episodes in the order they end):
#   env 1, episode 0: rewards [0, 1]                    G = [0.5, 1]
#   env 0, episode 0: rewards [0, 1, 2]                 G = [1, 2, 2]
#   env 1, episode 1: rewards [10, 11, 12, 13, 14]      G = [21, 22, 22, 20, 14]   (truncated)
G = [[0.5, 1.0], [1.0, 2.0, 2.0], [21.0, 22.0, 22.0, 20.0, 14.0]]
# Time-indexed mean over the 3 episodes, an ended episode counting 0
B_MEAN = [7.5, 25 / 3, 8.0, 20 / 3, 14 / 3]
# With V(s) = 4 everywhere, the truncated episode's last reward gains gamma * V(s_T) = 2:
G_BOOTSTRAPPED = [21.125, 22.25, 22.5, 21.0, 16.0]

EXPECTED_ADVANTAGES = {
    ("reward_to_go", "none"): G,
    ("total", "none"): [[0.5] * 2, [1.0] * 3, [21.0] * 5],
    ("reward_to_go", "mean"): [[g - b for g, b in zip(ep, B_MEAN, strict=False)] for ep in G],
    # leave-one-out: the other two episodes' mean, e.g. step 0 of episode 0: (1 + 21) / 2
    ("reward_to_go", "leave_one_out"): [[0.5 - 11.0, 1.0 - 12.0], [1.0 - 10.75, 2.0 - 11.5, 2.0 - 11.0], [21 - 0.75, 22 - 1.5, 22 - 1.0, 20 - 0, 14 - 0]],  # noqa: E501
    ("total", "mean"): [[0.5 - 7.5] * 2, [1.0 - 7.5] * 3, [21.0 - 7.5] * 5],
    ("reward_to_go", "value"): [[0.5 - 4, 1.0 - 4], [1.0 - 4, 2.0 - 4, 2.0 - 4], [g - 4 for g in G_BOOTSTRAPPED]],
    # "total": R(tau) - V(s_0) at every step, the truncated episode's R(tau) bootstrapped too
    ("total", "value"): [[0.5 - 4] * 2, [1.0 - 4] * 3, [G_BOOTSTRAPPED[0] - 4] * 5],
    # gamma^t (gamma = 0.5) on the reward-to-go
    ("reward_to_go", "none", "discount_steps"): [[0.5, 0.5], [1.0, 1.0, 0.5], [21.0, 11.0, 5.5, 2.5, 0.875]],
    # bootstrap_truncated=False: the truncated episode's return is the rewards it received, G, not G_BOOTSTRAPPED
    ("reward_to_go", "value", "no_bootstrap"): [[0.5 - 4, 1.0 - 4], [1.0 - 4, 2.0 - 4, 2.0 - 4], [g - 4 for g in G[2]]],
    ("total", "value", "no_bootstrap"): [[0.5 - 4] * 2, [1.0 - 4] * 3, [21.0 - 4] * 5],
    # Without a critic there is nothing to bootstrap with: the option changes nothing
    ("reward_to_go", "none", "no_bootstrap"): G,
}  # fmt: skip
OPTIONS = {"discount_steps": dict(discount_steps=True), "no_bootstrap": dict(bootstrap_truncated=False)}


@pytest.mark.parametrize("case", list(EXPECTED_ADVANTAGES), ids=lambda case: "-".join(map(str, case)))
def test_policy_loss_by_hand(case):
    return_type, baseline, *option = case
    env = DummyVecEnv([lambda: ScriptedEnv([3, 2], tag=0), lambda: ScriptedEnv([2, 5], tag=1, truncate=(1,))])
    with pytest.warns(UserWarning, match="TimeLimit"):
        model = REINFORCE(
            "MlpPolicy",
            env,
            n_episodes=3,
            gamma=0.5,
            return_type=return_type,
            baseline=baseline,
            normalize_advantage=False,
            learning_rate=0.0,
            seed=0,
            **(OPTIONS[option[0]] if option else {}),
        )
    with th.no_grad():
        model.policy.value_net.weight.zero_()
        model.policy.value_net.bias.fill_(4.0)
    _, callback = model._setup_learn(100, None)
    assert model.collect_rollouts(model.env, callback, model.rollout_buffer)
    batch = model.rollout_buffer.get()
    np.testing.assert_array_equal(batch.lengths, [2, 3, 5])
    with th.no_grad():
        log_prob = model.policy.get_distribution(batch.observations).log_prob(batch.actions.long().flatten()).numpy()
    advantages = np.concatenate(EXPECTED_ADVANTAGES[case])
    # L = -(1/N) sum_i sum_t A_it log pi(a_t|s_t), N = 3
    expected = -(advantages * log_prob).sum() / 3

    # The policy step uses V as it was before train(): the critic is fitted afterwards (here from V = 4)
    model.train()
    assert model.logger.name_to_value["train/policy_loss"] == pytest.approx(expected, rel=1e-5)
    if baseline == "value":
        returns = np.concatenate([G[0], G[1], G[2] if option == ["no_bootstrap"] else G_BOOTSTRAPPED])
        assert model.logger.name_to_value["train/value_loss"] == pytest.approx(np.mean((returns - 4.0) ** 2), rel=1e-5)


def test_normalized_advantages_are_standardized():
    env = DummyVecEnv([lambda: ScriptedEnv([3, 2], tag=0), lambda: ScriptedEnv([2, 5], tag=1)])
    with pytest.warns(UserWarning, match="TimeLimit"):
        model = REINFORCE("MlpPolicy", env, n_episodes=3, gamma=0.5, baseline="none", learning_rate=0.0, seed=0)
    _, callback = model._setup_learn(100, None)
    assert model.collect_rollouts(model.env, callback, model.rollout_buffer)
    batch = model.rollout_buffer.get()
    with th.no_grad():
        log_prob = model.policy.get_distribution(batch.observations).log_prob(batch.actions.long().flatten()).numpy()
    returns = np.concatenate(G)
    advantages = (returns - returns.mean()) / (returns.std(ddof=1) + 1e-8)
    model.train()
    assert model.logger.name_to_value["train/policy_loss"] == pytest.approx(-(advantages * log_prob).sum() / 3, abs=1e-6)


def test_entropy_loss_sums_over_steps_and_averages_over_episodes():
    env = DummyVecEnv([lambda: ScriptedEnv([3, 2], tag=0), lambda: ScriptedEnv([2, 5], tag=1)])
    with pytest.warns(UserWarning, match="TimeLimit"):
        model = REINFORCE("MlpPolicy", env, n_episodes=3, baseline="none", learning_rate=0.0, ent_coef=0.1, seed=0)
    _, callback = model._setup_learn(100, None)
    assert model.collect_rollouts(model.env, callback, model.rollout_buffer)
    batch = model.rollout_buffer.get()
    with th.no_grad():
        entropy = model.policy.get_distribution(batch.observations).entropy().numpy()
    model.train()
    assert model.logger.name_to_value["train/entropy_loss"] == pytest.approx(-entropy.sum() / 3, rel=1e-5)


def critic_loss(model, batch):
    """:return: The critic's regression loss on ``batch``, mean (V(s_t) - G_t)^2"""
    _, critic = model.compute_losses(batch)
    return th.nn.functional.mse_loss(critic.values, critic.targets).item()


def test_critic_is_fitted_after_the_policy_step_with_its_own_optimizer(tmp_path):
    env = DummyVecEnv([lambda: ScriptedEnv([3, 2], tag=0), lambda: ScriptedEnv([2, 5], tag=1)])
    with pytest.warns(UserWarning, match="TimeLimit"):
        model = REINFORCE(
            "MlpPolicy", env, n_episodes=3, baseline="value", learning_rate=0.0, critic_learning_rate=1e-2,
            n_critic_updates=30, critic_batch_size=4, seed=0,
        )  # fmt: skip
    _, callback = model._setup_learn(100, None)
    assert model.collect_rollouts(model.env, callback, model.rollout_buffer)
    batch = model.rollout_buffer.get()
    critic = {id(p) for p in model._critic_parameters()}
    before = {name: p.detach().clone() for name, p in model.policy.named_parameters()}
    loss_before = critic_loss(model, batch)
    model.train()
    assert model.logger.name_to_value["train/value_loss"] == pytest.approx(loss_before)
    for name, param in model.policy.named_parameters():
        moved = not th.equal(param, before[name])
        # learning_rate=0: only the critic's parameters move, by the critic's optimizer
        assert moved == (id(param) in critic), name
    assert critic_loss(model, batch) < 0.5 * loss_before

    # Its optimizer state is saved and loaded with the model
    model.save(tmp_path / "model.zip")
    loaded = REINFORCE.load(tmp_path / "model.zip")
    saved_state = model.critic_optimizer.state_dict()["state"]
    loaded_state = loaded.critic_optimizer.state_dict()["state"]
    assert saved_state.keys() == loaded_state.keys() and len(saved_state) > 0
    for key in saved_state:
        assert th.equal(saved_state[key]["exp_avg"], loaded_state[key]["exp_avg"])
