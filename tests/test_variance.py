"""``sb3-reinforce variance`` (sb3_reinforce.variance): the gradient it measures is the policy loss's, and its table
and plot show what baselines and reward-to-go do to the variance."""

import csv
import importlib.util

import numpy as np
import pytest
import torch as th
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import DummyVecEnv

from sb3_reinforce import REINFORCE
from sb3_reinforce.cli import main
from sb3_reinforce.estimators import step_returns, valid_mask
from sb3_reinforce.variance import (
    COMBINATIONS,
    VARIANCE_COLUMNS,
    actor_gradient,
    batch_gradients,
    build_model,
    collect_batches,
)
from tests.envs import ScriptedEnv
from tests.helpers import assert_valid_png

# The variance command and its models, built from the zoo entries, need the compare extra
needs_compare_extra = pytest.mark.skipif(
    importlib.util.find_spec("rl_zoo3") is None or importlib.util.find_spec("matplotlib") is None,
    reason="needs the compare extra (rl_zoo3, matplotlib)",
)


@pytest.mark.parametrize("return_type, baseline", [("reward_to_go", "value"), ("total", "leave_one_out")])
def test_variance_tool_measures_the_gradient_of_the_policy_loss(return_type, baseline):
    # sb3_reinforce.variance builds the loss from the estimator functions itself: for the model's own settings, its
    # gradient is exactly that of compute_losses' policy loss, and the model's settings are left as they were
    env = DummyVecEnv([lambda: ScriptedEnv([3, 2], tag=0), lambda: ScriptedEnv([2, 5], tag=1, truncate=(1,))])
    with pytest.warns(UserWarning, match="TimeLimit"):
        model = REINFORCE(
            "MlpPolicy", env, n_episodes=3, gamma=0.5, return_type=return_type, baseline=baseline,
            normalize_advantage=False, discount_steps=return_type == "reward_to_go", seed=0,
        )  # fmt: skip
    _, callback = model._setup_learn(100, None)
    assert model.collect_rollouts(model.env, callback, model.rollout_buffer)
    batch = model.rollout_buffer.get()
    assert batch.truncated.any()
    model.policy.set_training_mode(True)
    model.policy.zero_grad()
    model.compute_losses(batch)[0].policy_loss.backward()
    expected = actor_gradient(model.policy)

    grads = batch_gradients(model, [batch, batch])
    np.testing.assert_array_equal(grads[(return_type, baseline)][0], expected)
    assert (model.return_type, model.baseline) == (return_type, baseline)


@pytest.mark.slow  # trains, then measures 8 settings at 2 policies
@needs_compare_extra
def test_variance_writes_its_table_and_plot_and_baselines_reduce_the_variance(tmp_path):
    checkpoint = tmp_path / "policy.zip"
    env = make_vec_env("CartPole-v1", n_envs=8, seed=0)
    model = REINFORCE("MlpPolicy", env, seed=0, policy_kwargs=dict(net_arch=[64, 64]))
    model.learn(1000)
    model.save(checkpoint)

    main(["variance", "--n-batches", "10", "--n-episodes", "8", "--checkpoints", str(checkpoint), "--out-dir", str(tmp_path)])
    out_dir = tmp_path / "CartPole-v1"
    with open(out_dir / "variance.csv", newline="") as file:
        reader = csv.DictReader(file)
        assert tuple(reader.fieldnames or ()) == VARIANCE_COLUMNS
        rows = list(reader)
    assert [(row["policy"], row["return_type"], row["baseline"]) for row in rows] == [
        (policy, *combo) for policy in ("initial", str(checkpoint)) for combo in COMBINATIONS
    ]
    for row in rows:
        assert float(row["total_variance"]) > 0 and float(row["mean_grad_norm"]) > 0 and float(row["snr"]) > 0
    markdown = (out_dir / "variance.md").read_text()
    assert "## initial" in markdown and f"## {checkpoint}" in markdown
    assert_valid_png(out_dir / "variance.png")

    # At the initial policy every CartPole return is positive (about 20): subtracting a baseline and dropping the
    # rewards before t both remove noise. Measured ratio 0.08 to 0.33 over seeds 0-5 at K=10: assert < 0.6.
    variance = {(row["return_type"], row["baseline"]): float(row["total_variance"]) for row in rows[:8]}
    assert variance[("reward_to_go", "leave_one_out")] < 0.6 * variance[("total", "none")]
    assert variance[("reward_to_go", "none")] < variance[("total", "none")]


@needs_compare_extra
def test_variance_reads_the_raw_reinforce_gradient():
    """The measured gradient is -(1/N) sum_i sum_t A_it grad log pi(a_t|s_t), unnormalized and unclipped."""
    model = build_model("CartPole-v1", None, n_episodes=4, seed=1)
    batches = collect_batches(model, 2)
    grads = batch_gradients(model, batches)
    assert grads[("total", "none")].shape == (2, sum(p.numel() for p in model.policy.mlp_extractor.policy_net.parameters())
                                               + sum(p.numel() for p in model.policy.action_net.parameters()))  # fmt: skip

    batch = batches[1]
    returns = step_returns(batch.rewards, batch.lengths, model.gamma, "reward_to_go")[valid_mask(batch.lengths)]
    model.policy.zero_grad()
    log_prob = model.policy.get_distribution(batch.observations).log_prob(batch.actions.long().flatten())
    (-(th.as_tensor(returns, dtype=th.float32) * log_prob).sum() / len(batch.lengths)).backward()
    np.testing.assert_allclose(grads[("reward_to_go", "none")][1], actor_gradient(model.policy), rtol=1e-4, atol=1e-5)
