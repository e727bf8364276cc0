"""The batch rule keeps the gradient estimate unbiased when the action changes the episode's length."""

import warnings

import numpy as np
import pytest
import torch as th
from stable_baselines3.common.vec_env import DummyVecEnv

from sb3_reinforce import REINFORCE, SubsetDummyVecEnv
from tests.envs import ChoiceEnv, RepeatedBanditEnv

# Thousands of batches per estimate: minutes
pytestmark = pytest.mark.slow

N_BATCHES = 800


def fixed_policy(env, **kwargs):
    """
    A model whose policy never changes (learning rate 0, plain SGD, no clipping, raw advantages) on an env whose
    first observation is [1, 0], ready for collect_rollouts; and p, the probability of action 1 at that observation.
    """
    with pytest.warns(UserWarning, match="TimeLimit"):
        model = REINFORCE(
            "MlpPolicy",
            env,
            learning_rate=0.0,
            n_episodes=4,
            baseline="none",
            normalize_advantage=False,
            max_grad_norm=1e9,
            policy_kwargs=dict(optimizer_class=th.optim.SGD, optimizer_kwargs={}),
            **kwargs,
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # DummyVecEnv: "steps all 8 envs"
        _, callback = model._setup_learn(10**9, None)
    with th.no_grad():
        p = model.policy.get_distribution(th.tensor([[1.0, 0.0]])).distribution.probs[0, 1].item()
    return model, callback, p


# Both ways of collecting: every env stepped (any VecEnv), and only the envs the batch needs (Subset VecEnvs)
@pytest.fixture(scope="module", params=[DummyVecEnv, SubsetDummyVecEnv])
def batches(request):
    """Gradients and action counts of many batches drawn from one fixed policy (learning rate 0)."""
    model, callback, p_good = fixed_policy(request.param([lambda: ChoiceEnv(detour=3)] * 8), return_type="total", seed=0)
    logit_steps, good_fractions = [], []
    for _ in range(N_BATCHES):
        assert model.collect_rollouts(model.env, callback, model.rollout_buffer)
        batch = model.rollout_buffer.get()
        good_fractions.append(np.mean(batch.lengths == 1))
        model.train()
        grad = model.policy.action_net.bias.grad
        # Gradient descent moves the logit difference (good - bad) by -(grad[1] - grad[0])
        logit_steps.append(-(grad[1] - grad[0]).item())
    return p_good, np.array(good_fractions), np.array(logit_steps)


def test_batches_hold_actions_in_policy_proportion(batches):
    p_good, good_fractions, _ = batches
    # A "first to finish" rule would fill almost every batch with the short (good) episodes
    standard_error = np.sqrt(p_good * (1 - p_good) / (4 * N_BATCHES))
    assert abs(good_fractions.mean() - p_good) < 4 * standard_error


def test_average_update_moves_toward_better_action(batches):
    p_good, _, logit_steps = batches
    # Per episode, the step-0 term is R * [d log pi(a)/d b_good - d log pi(a)/d b_bad]: -1 * 2(1 - p) for the good
    # action, -2 * (-2p) for the bad one, so 2p(1 - p) on average (detour steps add noise, zero on average).
    # A batch that over-represents the good, short episodes flips the sign. The (1/N) sum keeps it per episode.
    expected = 2 * p_good * (1 - p_good)
    mean, standard_error = logit_steps.mean(), logit_steps.std() / np.sqrt(N_BATCHES)
    assert mean > 5 * standard_error
    assert abs(mean - expected) < 4 * standard_error


# ---------------------------------------------------------------------------------------------------
# What each return type estimates when gamma < 1 (Sutton & Barto 13.3; Nota & Thomas 2020)
# ---------------------------------------------------------------------------------------------------

GAMMA, N_STEPS, N_UPDATES = 0.5, 3, 1500


def mean_logit_step(return_type, discount_steps):
    """Mean and standard error of the update of the logit difference, over many batches of a fixed policy."""
    env = SubsetDummyVecEnv([lambda: RepeatedBanditEnv(N_STEPS)])
    model, callback, p = fixed_policy(env, gamma=GAMMA, return_type=return_type, discount_steps=discount_steps, seed=1)
    steps = []
    for _ in range(N_UPDATES):
        assert model.collect_rollouts(model.env, callback, model.rollout_buffer)
        model.train()
        grad = model.policy.action_net.bias.grad
        steps.append(-(grad[1] - grad[0]).item())
    steps = np.array(steps)
    return p, steps.mean(), steps.std() / np.sqrt(N_UPDATES)


@pytest.fixture(scope="module")
def discount_estimates():
    return {
        (return_type, discount): mean_logit_step(return_type, discount)
        for return_type, discount in [("total", False), ("reward_to_go", True), ("reward_to_go", False)]
    }


def test_reward_to_go_with_gamma_t_estimates_the_discounted_gradient(discount_estimates):
    # J = sum_t gamma^t p, and dp/d(logit difference) = p(1 - p) through each bias: the update is 2p(1-p) sum gamma^t
    p, total, total_se = discount_estimates[("total", False)]
    _, discounted, discounted_se = discount_estimates[("reward_to_go", True)]
    expected = 2 * p * (1 - p) * sum(GAMMA**t for t in range(N_STEPS))
    assert abs(total - expected) < 4 * total_se
    assert abs(discounted - expected) < 4 * discounted_se
    assert abs(total - discounted) < 4 * np.hypot(total_se, discounted_se)


def test_reward_to_go_without_gamma_t_estimates_something_else(discount_estimates):
    # Each step's own reward counts undiscounted: 2p(1-p) * N_STEPS, not the gradient of the discounted return
    p, total, total_se = discount_estimates[("total", False)]
    _, plain, plain_se = discount_estimates[("reward_to_go", False)]
    assert abs(plain - 2 * p * (1 - p) * N_STEPS) < 4 * plain_se
    assert plain - total > 5 * np.hypot(total_se, plain_se)
