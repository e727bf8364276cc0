"""
The variance of REINFORCE's gradient estimate for each ``return_type`` x ``baseline``, at fixed policies.

    sb3-reinforce variance --env CartPole-v1 --n-batches 30 \\
        --checkpoints results/compare/CartPole-v1/runs/reinforce/CartPole-v1_1_seed0/CartPole-v1.zip

For each policy (the initial one, built from ``zoo_configs/reinforce.yml``, and each checkpoint given), K batches
of ``n_episodes`` complete episodes are sampled once; then every combination computes its gradient on the same K
batches, so the combinations are compared on paired data. The gradient is REINFORCE's own: the policy loss that
``REINFORCE.compute_losses`` builds (what ``train()`` minimizes), with each combination's advantages from
:func:`sb3_reinforce.estimators.advantages`, is back-propagated, and the actor parameters' ``.grad`` is read; no
optimizer step is taken, nothing is clipped, and no model setting is changed. Measured with ``normalize_advantage=False``
(standardizing would hide the variance); only the policy-gradient term, with the critic used as it is, not fitted.

Writes ``variance.csv``, ``variance.md`` and ``variance.png`` under ``<out-dir>/<env>/``.
"""

import contextlib
import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.vec_env import VecNormalize

from sb3_reinforce import stats
from sb3_reinforce.buffers import EpisodeBatch
from sb3_reinforce.estimators import BASELINES, RETURN_TYPES, advantages, bootstrap_rewards, pad_episodes
from sb3_reinforce.reinforce import REINFORCE

COMBINATIONS = [(return_type, baseline) for return_type in RETURN_TYPES for baseline in BASELINES]
# Settings of the measurement: the raw estimator (no optimizer step is ever taken)
MEASUREMENT = dict(normalize_advantage=False)
# Parameters of the critic (ActorCriticPolicy's names); everything else is the actor
CRITIC_PREFIXES = ("value_net.", "mlp_extractor.value_net.", "vf_features_extractor.")


@dataclass
class VarianceArgs:
    """Measure the variance of REINFORCE's gradient estimate for each return_type x baseline, at fixed policies
    (the initial one and saved checkpoints). Writes variance.csv, variance.md and variance.png under
    <out-dir>/<env>/."""

    env: str = "CartPole-v1"
    """Gymnasium env id; the envs (and the initial policy) are built from its entry in zoo_configs/reinforce.yml"""
    checkpoints: list[str] = field(default_factory=list)
    """REINFORCE models (.zip) to measure besides the initial policy. A VecNormalize file saved beside one the way
    rl_zoo3 saves it (<dir>/<env>/vecnormalize.pkl) is loaded with it"""
    n_batches: int = 30
    """K: batches sampled per policy (the variance is estimated over them)"""
    n_episodes: int | None = None
    """Episodes per batch, the same for every policy. Default: the YAML entry's n_episodes"""
    seed: int = 0
    """Seed of the envs and of the sampling (the same for every policy)"""
    out_dir: str = "results/variance"
    """Results go to <out-dir>/<env>/"""
    device: str = "cpu"
    """Torch device"""


def build_model(env_id: str, checkpoint: str | None, n_episodes: int | None, seed: int, device: str = "cpu") -> REINFORCE:
    """
    A REINFORCE model set up for measurement, its envs built by rl_zoo3 from the YAML entry of ``env_id``.

    With ``normalize`` in the entry, the VecNormalize statistics are frozen (a fixed policy must see fixed
    inputs): a checkpoint's saved ones, or fresh ones for the initial policy.

    :param env_id: Gymnasium env id
    :param checkpoint: A saved REINFORCE model, or None for a new (initial) policy
    :param n_episodes: Episodes per batch (None: the YAML entry's)
    :param seed: Seed of the envs and of the model
    :param device: Torch device
    """
    from sb3_reinforce.zoo import ALGO, make_env

    with contextlib.redirect_stdout(io.StringIO()):  # rl_zoo3 prints the hyperparameters
        # loads <dir>/<env>/vecnormalize.pkl beside a checkpoint
        env, hyperparams = make_env(ALGO, env_id, seed, trained_agent=checkpoint or "", device=device)
    if isinstance(env, VecNormalize):
        env.training = False
    overrides: dict[str, Any] = dict(MEASUREMENT, n_episodes=n_episodes or hyperparams.get("n_episodes", 8))
    if checkpoint:
        # The checkpoint's own network and gamma; only the measurement settings change
        return REINFORCE.load(checkpoint, env=env, seed=seed, device=device, **overrides)
    return REINFORCE(env=env, seed=seed, device=device, **{**hyperparams, **overrides})


def actor_gradient(policy: th.nn.Module) -> np.ndarray:
    """:return: The ``.grad`` of the actor's parameters, flattened into one vector (0 where no gradient flowed)"""
    grads = [
        (param.grad if param.grad is not None else th.zeros_like(param)).flatten()
        for name, param in policy.named_parameters()
        if not name.startswith(CRITIC_PREFIXES)
    ]
    return th.cat(grads).detach().cpu().numpy().astype(np.float64)


def collect_batches(model: REINFORCE, n_batches: int) -> list[EpisodeBatch]:
    """
    :param model: Built by :func:`build_model`
    :param n_batches: K
    :return: K batches of ``model.n_episodes`` complete episodes, sampled by the model's current policy
    """
    if n_batches < 2:
        raise ValueError(f"n_batches must be >= 2 to estimate a variance, got {n_batches}")
    _, callback = model._setup_learn(total_timesteps=10**12)
    batches = []
    for _ in range(n_batches):
        if not model.collect_rollouts(model.env, callback, model.rollout_buffer):  # type: ignore[arg-type]
            raise RuntimeError("the rollout was stopped before its episodes ended")
        batches.append(model.rollout_buffer.get())
    return batches


def batch_gradients(model: REINFORCE, batches: list[EpisodeBatch]) -> dict[tuple[str, str], np.ndarray]:
    """
    Every combination's gradient on each stored batch: REINFORCE's policy loss
    ``L = -(1/N) sum_i sum_t A_it * log pi(a_t|s_t)``, as ``REINFORCE.compute_losses`` builds it, with each
    combination's ``A_it`` from :func:`~sb3_reinforce.estimators.advantages`, back-propagated without an optimizer
    step. The model's other estimator settings (gamma, ``discount_steps``, ``normalize_advantage``,
    ``bootstrap_truncated``) are read, never changed.

    :param model: Built by :func:`build_model`
    :param batches: From :func:`collect_batches`
    :return: Gradients of shape ``(len(batches), n_actor_parameters)`` per ``(return_type, baseline)``
    """
    model.policy.set_training_mode(True)
    # The critic's values do not depend on the combination: V(s_t) for the value baseline, and the rewards with the
    # time-limit bootstrap gamma * V(s_T) that compute_losses uses with it
    critic_inputs = []
    for batch in batches:
        values, terminal_values = model.predict_batch_values(batch)
        rewards = batch.rewards
        if model.bootstrap_truncated and terminal_values is not None:
            rewards = bootstrap_rewards(rewards, batch.lengths, batch.truncated, terminal_values, model.gamma)
        critic_inputs.append((rewards, pad_episodes(values.cpu().numpy(), batch.lengths)))
    grads = {}
    for return_type, baseline in COMBINATIONS:
        per_batch = []
        for batch, (bootstrapped_rewards, padded_values) in zip(batches, critic_inputs, strict=True):
            weights = advantages(
                bootstrapped_rewards if baseline == "value" else batch.rewards,
                batch.lengths,
                model.gamma,
                return_type,
                baseline,
                values=padded_values,
                discount_steps=model.discount_steps,
                normalize_advantage=model.normalize_advantage,
            )
            model.policy.zero_grad()
            actions = batch.actions.long().flatten() if isinstance(model.action_space, spaces.Discrete) else batch.actions
            log_prob = model.policy.get_distribution(batch.observations).log_prob(actions)
            # compute_losses' policy loss (tests/test_variance.py checks that the two agree)
            (-(th.as_tensor(weights, dtype=th.float32, device=model.device) * log_prob).sum() / len(batch.lengths)).backward()
            per_batch.append(actor_gradient(model.policy))
        grads[(return_type, baseline)] = np.stack(per_batch)
    return grads


def measure(args: VarianceArgs) -> list[dict[str, Any]]:
    """
    :return: One row per policy and combination: ``policy, return_type, baseline, n_batches, n_episodes,
        mean_return, mean_length, total_variance, relative_variance`` (to ``total``/``none`` at the same policy),
        ``mean_grad_norm, snr``
    """
    rows = []
    for checkpoint in [None, *args.checkpoints]:
        model = build_model(args.env, checkpoint, args.n_episodes, args.seed, args.device)
        batches = collect_batches(model, args.n_batches)
        grads = batch_gradients(model, batches)
        model.env.close()  # type: ignore[union-attr]
        returns = np.concatenate([batch.rewards.sum(axis=1) for batch in batches])
        lengths = np.concatenate([batch.lengths for batch in batches])
        reference = stats.gradient_statistics(grads[("total", "none")])["total_variance"]
        for (return_type, baseline), combo_grads in grads.items():
            numbers = stats.gradient_statistics(combo_grads)
            rows.append(
                {
                    "policy": checkpoint or "initial",
                    "return_type": return_type,
                    "baseline": baseline,
                    "n_batches": args.n_batches,
                    "n_episodes": model.n_episodes,
                    "mean_return": float(returns.mean()),
                    "mean_length": float(lengths.mean()),
                    "total_variance": numbers["total_variance"],
                    "relative_variance": numbers["total_variance"] / reference if reference > 0 else float("nan"),
                    "mean_grad_norm": numbers["mean_grad_norm"],
                    "snr": numbers["snr"],
                }
            )
    return rows


VARIANCE_COLUMNS = (
    "policy", "return_type", "baseline", "n_batches", "n_episodes", "mean_return", "mean_length",
    "total_variance", "relative_variance", "mean_grad_norm", "snr",
)  # fmt: skip


def variance_markdown(args: VarianceArgs, rows: list[dict[str, Any]]) -> str:
    """:return: variance.md: one table per policy"""
    lines = [
        f"# Variance of the REINFORCE gradient on {args.env}",
        "",
        f"K = {args.n_batches} batches of {rows[0]['n_episodes']} complete episodes per policy (seed {args.seed}), the "
        "same batches for every return_type x baseline. Gradient of the policy loss alone (normalize_advantage=False, "
        "no clipping, no entropy or value term) with respect to the actor's parameters.",
        "",
        "- *total variance*: trace of the covariance of the K gradient estimates (sum of squared distances to their "
        "mean / (K - 1)); *relative*: divided by that of total/none at the same policy.",
        "- *||mean||*: norm of the mean gradient; *SNR*: ||mean||^2 / total variance.",
    ]
    for policy in dict.fromkeys(row["policy"] for row in rows):
        policy_rows = [row for row in rows if row["policy"] == policy]
        first = policy_rows[0]
        lines += [
            "",
            f"## {policy}",
            "",
            f"Sampled episodes: mean return {first['mean_return']:.1f}, mean length {first['mean_length']:.1f}.",
            "",
            "| return_type | baseline | total variance | relative | ‖mean‖ | SNR |",
            "|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {row['return_type']} | {row['baseline']} | {row['total_variance']:.4g} | {row['relative_variance']:.3g} | "
            f"{row['mean_grad_norm']:.4g} | {row['snr']:.3g} |"
            for row in policy_rows
        ]
    return "\n".join([*lines, ""])


def run_variance(args: VarianceArgs) -> Path:
    """
    The ``sb3-reinforce variance`` command.

    :return: The folder the table and the plot were written to
    """
    from sb3_reinforce.plots import plot_variance

    th.set_num_threads(1)
    rows = measure(args)
    out_dir = Path(args.out_dir) / args.env
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / "variance.csv", "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=VARIANCE_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    (out_dir / "variance.md").write_text(variance_markdown(args, rows))
    plot_variance(rows, out_dir / "variance.png", title=f"{args.env}: K={args.n_batches} batches per policy")
    print(f"wrote {out_dir / 'variance.md'}, variance.csv and variance.png")
    return out_dir
