"""
The REINFORCE estimator as data in, data out: returns, baselines, advantages and critic targets.

Every function takes numpy arrays of a padded batch, shape ``(n_episodes, max_len)`` with zeros past each episode's
end, and the settings, and returns arrays. Nothing here knows about torch, SB3 or a model, so each step can be
checked by hand (tests/test_estimators.py) and a tool can try every setting on the same batch (sb3_reinforce.variance).
:class:`~sb3_reinforce.REINFORCE` calls :func:`bootstrap_rewards`, :func:`advantages` and :func:`critic_targets`;
docs/estimator.md explains what they estimate.

The math is float64 throughout: the returns carry no gradient, and standardizing in float32 once turned the rounding
noise of equal returns into advantages of size 1 (see :func:`standardize`).
"""

import numpy as np

RETURN_TYPES = ("total", "reward_to_go")
BASELINES = ("none", "mean", "leave_one_out", "value")


def check_settings(n_episodes: int, return_type: str, baseline: str, discount_steps: bool) -> None:
    """
    Raise a ValueError, naming the settings, unless they make an estimator together.

    :param n_episodes: N, episodes per batch
    :param return_type: One of :data:`RETURN_TYPES`
    :param baseline: One of :data:`BASELINES`
    :param discount_steps: Whether step t is weighted by ``gamma^t``
    """
    if return_type not in RETURN_TYPES:
        raise ValueError(f"return_type must be one of {RETURN_TYPES}, got {return_type!r}")
    if baseline not in BASELINES:
        raise ValueError(f"baseline must be one of {BASELINES}, got {baseline!r}")
    if baseline == "leave_one_out" and n_episodes < 2:
        raise ValueError(f"baseline='leave_one_out' needs n_episodes >= 2, got n_episodes={n_episodes}")
    if baseline == "mean" and n_episodes < 2:
        # The mean of one episode is its own return: every advantage would be 0 and nothing would learn
        raise ValueError(
            f"baseline='mean' needs n_episodes >= 2 (with one episode every advantage is 0), got n_episodes={n_episodes}"
        )
    if discount_steps and return_type == "total":
        raise ValueError(
            "discount_steps=True weights step t by gamma^t, which is unbiased with return_type='reward_to_go' only: "
            "R(tau) already discounts every reward from the start, got return_type='total'"
        )


# ---------------------------------------------------------------------------------------------------
# The padded layout
# ---------------------------------------------------------------------------------------------------


def pad_episodes(flat: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """
    Lay episodes stored back to back into rows of a zero-padded matrix.

    :param flat: Per-step values of all episodes, concatenated, shape ``(sum(lengths),)``
    :param lengths: Length of each episode, shape ``(n_episodes,)``
    :return: Shape ``(n_episodes, max(lengths))``; entry ``[i, t]`` is step t of episode i, 0 past its end
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    padded = np.zeros((len(lengths), int(lengths.max(initial=0))), dtype=np.float64)
    padded[valid_mask(lengths)] = flat
    return padded


def valid_mask(lengths: np.ndarray) -> np.ndarray:
    """
    :param lengths: Length of each episode, shape ``(n_episodes,)``
    :return: Boolean mask of shape ``(n_episodes, max(lengths))``, True where step t exists in episode i. Indexing a
        padded array with it gives one value per step, episode 0 first: the order of the batch's observations
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    return np.arange(int(lengths.max(initial=0)))[None, :] < lengths[:, None]


# ---------------------------------------------------------------------------------------------------
# Returns and baselines
# ---------------------------------------------------------------------------------------------------


def reward_to_go(rewards: np.ndarray, gamma: float) -> np.ndarray:
    """
    Discounted reward-to-go ``G_t = sum_{k >= t} gamma^(k-t) r_k`` of each episode (Sutton & Barto eq. 13.8).

    Padding must be zero: an episode that has ended collects no more reward, so its ``G_t`` past the end is 0.
    A truncated episode's bootstrap ``gamma * V(s_T)`` is added to its last reward first, by
    :func:`bootstrap_rewards`.

    :param rewards: Zero-padded rewards, shape ``(n_episodes, max_len)``
    :param gamma: Discount factor
    :return: Zero-padded ``G_t``, same shape
    """
    returns = np.zeros_like(rewards, dtype=np.float64)
    running = np.zeros(rewards.shape[0], dtype=np.float64)
    for t in reversed(range(rewards.shape[1])):
        running = rewards[:, t] + gamma * running
        returns[:, t] = running
    return returns


def step_returns(rewards: np.ndarray, lengths: np.ndarray, gamma: float, return_type: str) -> np.ndarray:
    """
    The return that weights ``log pi(a_t|s_t)`` at each step, before any baseline.

    :param rewards: Zero-padded rewards, shape ``(n_episodes, max_len)``
    :param lengths: Length of each episode
    :param gamma: Discount factor
    :param return_type: ``"total"``: every step of episode i is weighted by its whole discounted return
        ``R(tau_i) = G_0``. ``"reward_to_go"``: step t is weighted by ``G_t``.
    :return: Zero-padded weights, same shape as ``rewards``
    """
    returns = reward_to_go(rewards, gamma)
    if return_type == "reward_to_go":
        return returns
    if return_type == "total":
        return np.where(valid_mask(lengths), returns[:, :1], 0.0)
    raise ValueError(f"return_type must be one of {RETURN_TYPES}, got {return_type!r}")


def batch_baseline(returns: np.ndarray, baseline: str, return_type: str = "reward_to_go") -> np.ndarray:
    """
    State-independent baselines computed from the batch itself.

    For ``return_type="reward_to_go"`` the baseline is time-indexed, ``b_t = mean_j G^j_t`` over the batch's
    episodes, where an episode that has ended counts with ``G^j_t = 0`` (it sits in an absorbing state with no
    reward). For ``return_type="total"`` it is the classic average return ``b = mean_j R(tau_j)``, the same at
    every step.

    :param returns: Zero-padded step returns from :func:`step_returns`, shape ``(n_episodes, max_len)``
    :param baseline: ``"none"``: zeros. ``"mean"``: the mean over all N episodes (it includes episode i itself,
        which shrinks the gradient by (N-1)/N in expectation). ``"leave_one_out"``: episode i's baseline averages
        the other N-1 episodes only, which keeps the estimator unbiased (Kool et al. 2019, "Buy 4 REINFORCE
        samples, get a baseline for free!"). Its advantages are exactly N/(N-1) times those of ``"mean"``.
    :param return_type: ``"total"`` or ``"reward_to_go"``, as passed to :func:`step_returns`
    :return: Baseline per step, same shape as ``returns`` (values past an episode's end are meaningless)
    """
    n_episodes = returns.shape[0]
    if baseline == "none":
        return np.zeros_like(returns)
    # Total returns: one value per episode, R(tau_j) = its step-0 return
    columns = returns[:, :1] if return_type == "total" else returns
    column_sum = columns.sum(axis=0, keepdims=True)
    if baseline == "mean":
        per_step = column_sum / n_episodes
    elif baseline == "leave_one_out":
        if n_episodes < 2:
            raise ValueError(f"baseline='leave_one_out' needs at least 2 episodes, got {n_episodes}")
        per_step = (column_sum - columns) / (n_episodes - 1)
    else:
        raise ValueError(f"batch_baseline handles 'none', 'mean' and 'leave_one_out', got {baseline!r}")
    return np.array(np.broadcast_to(per_step, returns.shape), dtype=np.float64)


def standardize(advantages: np.ndarray, eps: float = 1e-8) -> np.ndarray:
    """
    ``(A - mean(A)) / (std(A) + eps)`` over all the batch's steps (sample std), in float64.

    When every advantage is the same (e.g. a first Acrobot batch, whose episodes all time out with the same
    return), there is nothing to learn from the batch. Computed naively, ``A - mean(A)`` is then rounding noise, and
    dividing it by its own tiny std turns that noise into advantages of size 1 and random sign: a random update.
    A spread below 1e-10 of the advantages' scale counts as none, and gives zeros.

    :param advantages: One value per step of the batch
    :param eps: Added to the std, as SB3 does
    :return: The standardized advantages, same shape
    """
    advantages = np.asarray(advantages, dtype=np.float64)
    if advantages.size < 2:
        return advantages
    centered = advantages - advantages.mean()
    std = float(centered.std(ddof=1))
    if std <= 1e-10 * max(float(np.abs(advantages).max()), 1.0):
        return np.zeros_like(advantages)
    return centered / (std + eps)


# ---------------------------------------------------------------------------------------------------
# The estimator: what the policy step and the critic's fit use
# ---------------------------------------------------------------------------------------------------


def bootstrap_rewards(
    rewards: np.ndarray, lengths: np.ndarray, truncated: np.ndarray, terminal_values: np.ndarray, gamma: float
) -> np.ndarray:
    """
    Complete the return of each episode that a time limit ended: add ``gamma * V(s_T)`` to its last reward, where
    ``s_T`` is the observation the limit cut it at (Pardo et al. 2018, "Time Limits in Reinforcement Learning"; SB3
    issue #633). Every return computed from the result, at every step of the episode, then includes the bootstrap.

    :param rewards: Zero-padded rewards, shape ``(n_episodes, max_len)``
    :param lengths: Length of each episode
    :param truncated: Whether each episode was ended by a time limit rather than terminated, shape ``(n_episodes,)``
    :param terminal_values: ``V(s_T)`` of each truncated episode, in the order they appear in the batch. Used in
        its own dtype, as REINFORCE passes the critic's float32 output
    :param gamma: Discount factor
    :return: A new array of rewards; episodes that terminated are unchanged
    """
    truncated = np.asarray(truncated, dtype=bool)
    rewards = rewards.copy()
    last = np.asarray(lengths)[truncated] - 1
    rewards[np.flatnonzero(truncated), last] += gamma * terminal_values
    return rewards


def advantages(
    rewards: np.ndarray,
    lengths: np.ndarray,
    gamma: float,
    return_type: str,
    baseline: str,
    values: np.ndarray | None = None,
    discount_steps: bool = False,
    normalize_advantage: bool = False,
) -> np.ndarray:
    """
    The weights ``A_it`` of the REINFORCE loss ``L = -(1/N) sum_i sum_t A_it * log pi(a_t|s_t)``: the return minus
    the baseline, times ``gamma^t`` if ``discount_steps``, then standardized over the batch if
    ``normalize_advantage``.

    :param rewards: Zero-padded rewards, shape ``(n_episodes, max_len)``, with any time-limit bootstrap already
        added (:func:`bootstrap_rewards`)
    :param lengths: Length of each episode
    :param gamma: Discount factor
    :param return_type: ``"total"`` or ``"reward_to_go"`` (:func:`step_returns`)
    :param baseline: ``"none"``, ``"mean"``, ``"leave_one_out"`` (:func:`batch_baseline`) or ``"value"``: the
        critic's ``V(s_t)`` for ``"reward_to_go"``, and ``V(s_0)`` of the episode's first state for ``"total"``
        (whose weight ``R(tau) = G_0`` is the return from the start)
    :param values: Zero-padded ``V(s_t)``, same shape as ``rewards``; needed for ``baseline="value"`` only
    :param discount_steps: Whether to weight step t by ``gamma^t`` (Sutton & Barto 13.3)
    :param normalize_advantage: Whether to standardize the advantages over the batch's steps (:func:`standardize`)
    :return: ``A_it``, one per step of the batch, episode 0 first (the order of :func:`valid_mask`)
    """
    mask = valid_mask(lengths)
    returns = step_returns(rewards, lengths, gamma, return_type)
    if baseline == "value":
        if values is None:
            raise ValueError("baseline='value' needs the critic's values V(s_t), got values=None")
        if return_type == "total":
            # A function of the start state only, like the weight R(tau) = G_0 it is subtracted from
            values = np.broadcast_to(values[:, :1], values.shape)
        result = returns[mask] - values[mask]
    else:
        result = returns[mask] - batch_baseline(returns, baseline, return_type)[mask]
    if discount_steps:
        # Sutton & Barto's gamma^t: the step's weight in the discounted objective (section 13.3)
        step_index = np.broadcast_to(np.arange(mask.shape[1]), mask.shape)[mask]
        result = result * gamma**step_index
    if normalize_advantage:
        result = standardize(result)
    return result


def critic_targets(rewards: np.ndarray, lengths: np.ndarray, gamma: float) -> np.ndarray:
    """
    The critic's regression targets: the reward-to-go ``G_t`` of every step, since ``V(s_t)`` estimates
    ``E[G_t | s_t]`` whatever the policy's ``return_type``.

    :param rewards: Zero-padded rewards, shape ``(n_episodes, max_len)``, with any time-limit bootstrap already
        added (:func:`bootstrap_rewards`)
    :param lengths: Length of each episode
    :param gamma: Discount factor
    :return: ``G_t``, one per step of the batch, episode 0 first
    """
    return step_returns(rewards, lengths, gamma, "reward_to_go")[valid_mask(lengths)]
