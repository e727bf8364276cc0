"""
Recurrent policies trained on whole episodes: sb3-contrib's ``RecurrentActorCriticPolicy`` family
(``"MlpLstmPolicy"``, ``"CnnLstmPolicy"``, ``"MultiInputLstmPolicy"``), driven the way RecurrentPPO drives them.

A REINFORCE batch is made of complete episodes, each begun at an env reset, where the LSTM state is zero. So training
runs the LSTM over each episode from its first step with a zero state, and backpropagates through the whole episode:
nothing is cut, no hidden state from an older policy is stored, and the log-probabilities are those of the policy that
acted (its parameters have not changed since). The episodes of a batch are laid side by side, zero-padded to the
longest (:func:`pad_steps`), and the LSTM runs over all of them at once; a padded step comes after its episode's end,
so it cannot change an earlier output, and it is dropped from every sum.

Memory and time grow with the episodes' length: one LSTM state per step of the batch is kept for backpropagation.

These functions are plain torch on the policy's modules; this module imports sb3-contrib only to build a policy
(:func:`recurrent_policy_class`), so ``import sb3_reinforce`` does not need it.
"""

from typing import Any

import numpy as np
import torch as th
from stable_baselines3.common.distributions import Distribution
from stable_baselines3.common.type_aliases import TensorDict

from sb3_reinforce.estimators import valid_mask
from sb3_reinforce.extras import MissingExtraError, require_extra

#: The recurrent policy names, as RecurrentPPO spells them, and sb3-contrib's class for each
RECURRENT_POLICIES = {
    "MlpLstmPolicy": "RecurrentActorCriticPolicy",
    "CnnLstmPolicy": "RecurrentActorCriticCnnPolicy",
    "MultiInputLstmPolicy": "RecurrentMultiInputActorCriticPolicy",
}

LSTMStates = tuple[th.Tensor, th.Tensor]


def recurrent_policy_class(name: str) -> type:
    """
    :param name: A key of :data:`RECURRENT_POLICIES`
    :return: sb3-contrib's policy class of that name
    :raise MissingExtraError: In one line naming the extra, if sb3-contrib is not installed
    """
    try:
        require_extra("recurrent", f"REINFORCE({name!r}, ...)")
    except MissingExtraError as error:
        raise MissingExtraError(str(error)) from None
    from sb3_contrib.common.recurrent import policies

    return getattr(policies, RECURRENT_POLICIES[name])


def is_recurrent(policy: Any) -> bool:
    """:return: Whether ``policy`` is one of sb3-contrib's recurrent actor-critic policies (it has an actor LSTM)"""
    return isinstance(getattr(policy, "lstm_actor", None), th.nn.LSTM)


def zero_states(lstm: th.nn.LSTM, n_sequences: int, device: th.device) -> LSTMStates:
    """:return: The zero hidden and cell states of ``lstm`` for ``n_sequences`` sequences (an episode's start)"""
    shape = (lstm.num_layers, n_sequences, lstm.hidden_size)
    return th.zeros(shape, device=device), th.zeros(shape, device=device)


def critic_lstm(policy: Any) -> th.nn.LSTM:
    """:return: The LSTM whose states the critic reads: its own (``enable_critic_lstm``) or the actor's"""
    return policy.lstm_critic if policy.lstm_critic is not None else policy.lstm_actor


def pad_steps(steps: th.Tensor | TensorDict, mask: th.Tensor) -> th.Tensor | TensorDict:
    """
    Lay the steps of episodes stored back to back (episode 0 first) side by side, zero-padded, in the layout
    sb3-contrib's ``_process_sequence`` reads: sequence i is rows ``i * max_len`` to ``(i + 1) * max_len - 1``.

    :param steps: One row per step of the batch (a dict of such tensors for Dict observations)
    :param mask: ``(n_episodes, max_len)``, True where a step exists (:func:`~sb3_reinforce.estimators.valid_mask`)
    :return: ``(n_episodes * max_len, ...)`` rows
    """
    if isinstance(steps, dict):
        return {key: pad_steps(value, mask) for key, value in steps.items()}  # type: ignore[misc]
    padded = steps.new_zeros((*mask.shape, *steps.shape[1:]))
    padded[mask] = steps
    return padded.reshape(-1, *steps.shape[1:])


def _torch_mask(lengths: np.ndarray, device: th.device, extra_step: bool = False) -> th.Tensor:
    """:return: :func:`~sb3_reinforce.estimators.valid_mask` as a tensor, with one more step per episode if asked"""
    return th.as_tensor(valid_mask(np.asarray(lengths) + 1 if extra_step else lengths), device=device)


def unrolled_distribution(policy: Any, observations: th.Tensor | TensorDict, lengths: np.ndarray) -> Distribution:
    """
    The action distributions of a batch of complete episodes, the actor's LSTM run over each from a zero state.

    :param policy: A recurrent policy (:func:`is_recurrent`)
    :param observations: The batch's observations, episode 0 first
    :param lengths: Length of each episode
    :return: The distribution at every padded step, ``n_episodes * max(lengths)`` rows; keep the rows of
        ``valid_mask(lengths).flatten()``
    """
    mask = _torch_mask(lengths, policy.device)
    states = zero_states(policy.lstm_actor, len(lengths), policy.device)
    # All zero: the state is already zero at each episode's start, and sb3-contrib then runs the LSTM over the whole
    # sequence in one call instead of a Python loop over the steps
    starts = th.zeros(mask.numel(), device=policy.device)
    distribution, _ = policy.get_distribution(pad_steps(observations, mask), states, starts)
    return distribution


def unrolled_log_prob(
    policy: Any, observations: th.Tensor | TensorDict, actions: th.Tensor, lengths: np.ndarray
) -> tuple[th.Tensor, th.Tensor | None]:
    """
    log pi(a_t | h_t) and the entropy at every step of a batch of complete episodes, h_t the history of episode
    i up to step t, with gradients through the whole episode (full backpropagation through time).

    :param policy: A recurrent policy
    :param observations: The batch's observations, episode 0 first
    :param actions: The actions taken, one row per step (long and flat for Discrete actions)
    :param lengths: Length of each episode
    :return: Log-probabilities and entropies, one per step, episode 0 first (entropy None where the distribution
        has no closed form)
    """
    mask = _torch_mask(lengths, policy.device)
    distribution = unrolled_distribution(policy, observations, lengths)
    flat = mask.flatten()
    log_prob = distribution.log_prob(pad_steps(actions, mask))[flat]  # type: ignore[arg-type]
    entropy = distribution.entropy()
    return log_prob, None if entropy is None else entropy[flat]


def unrolled_values(
    policy: Any,
    observations: th.Tensor | TensorDict,
    lengths: np.ndarray,
    truncated: np.ndarray | None = None,
    terminal_observations: th.Tensor | TensorDict | None = None,
) -> tuple[th.Tensor, th.Tensor | None]:
    """
    The critic's V(h_t) at every step of a batch of complete episodes, its LSTM (or the actor's, with
    ``shared_lstm``) run over each episode from a zero state; and, for an episode a time limit ended, the value of
    its last observation s_T after the whole episode, for the bootstrap.

    :param policy: A recurrent policy
    :param observations: The batch's observations, episode 0 first
    :param lengths: Length of each episode
    :param truncated: Whether each episode was truncated
    :param terminal_observations: The last observation of each truncated episode, in episode order
    :return: V at every step (episode 0 first), and V(s_T) of each truncated episode (None without any)
    """
    device = policy.device
    with_terminal = truncated is not None and terminal_observations is not None and bool(np.any(truncated))
    lengths = np.asarray(lengths)
    mask = _torch_mask(lengths, device, extra_step=with_terminal)
    n_episodes, max_len = mask.shape
    observed = th.zeros_like(mask)
    observed[_torch_mask(lengths, device).nonzero(as_tuple=True)] = True  # the episode's own steps, not the extra one
    padded = pad_steps(_with_last_rows(observations, lengths, truncated, terminal_observations, with_terminal), mask)
    states = zero_states(critic_lstm(policy), n_episodes, device)
    values = policy.predict_values(padded, states, th.zeros(n_episodes * max_len, device=device)).flatten()
    values = values.reshape(n_episodes, max_len)
    step_values = values[observed]
    if not with_terminal:
        return step_values, None
    assert truncated is not None
    rows = np.flatnonzero(truncated)
    return step_values, values[th.as_tensor(rows, device=device), th.as_tensor(lengths[rows], device=device)]


def _with_last_rows(
    observations: th.Tensor | TensorDict,
    lengths: np.ndarray,
    truncated: np.ndarray | None,
    terminal_observations: th.Tensor | TensorDict | None,
    with_terminal: bool,
) -> th.Tensor | TensorDict:
    """The batch's steps with one more row after each episode: its terminal observation if truncated, else zeros."""
    if not with_terminal:
        return observations
    assert truncated is not None and terminal_observations is not None
    if isinstance(observations, dict):
        assert isinstance(terminal_observations, dict)
        return {
            key: _with_last_rows(value, lengths, truncated, terminal_observations[key], True)  # type: ignore[misc]
            for key, value in observations.items()
        }
    assert isinstance(terminal_observations, th.Tensor)
    ends = np.cumsum(lengths)
    extra = observations.new_zeros((len(lengths), *observations.shape[1:]))
    extra[th.as_tensor(np.flatnonzero(truncated), device=observations.device)] = terminal_observations.to(extra.dtype)
    pieces = []
    for i, (start, end) in enumerate(zip(ends - lengths, ends, strict=True)):
        pieces += [observations[int(start) : int(end)], extra[i : i + 1]]
    return th.cat(pieces)


def episode_chunks(lengths: np.ndarray, batch_size: int, generator: th.Generator | None = None) -> list[np.ndarray]:
    """
    Shuffled groups of whole episodes for the recurrent critic's minibatches: a recurrent critic needs each episode
    from its start, so a minibatch holds whole episodes, about ``batch_size`` steps (at least one episode).

    :param lengths: Length of each episode
    :param batch_size: Steps per minibatch, roughly
    :param generator: Random generator of the shuffle
    :return: Episode indices of each minibatch
    """
    order = th.randperm(len(lengths), generator=generator).numpy()
    chunks, current, steps = [], [], 0
    for episode in order:
        current.append(int(episode))
        steps += int(lengths[episode])
        if steps >= batch_size:
            chunks.append(np.array(current))
            current, steps = [], 0
    if current:
        chunks.append(np.array(current))
    return chunks


def episode_rows(lengths: np.ndarray, episodes: np.ndarray) -> np.ndarray:
    """:return: The rows of ``episodes`` (indices into the batch), in that order, among steps stored episode 0 first"""
    starts = np.cumsum(lengths) - lengths
    return np.concatenate([np.arange(starts[i], starts[i] + lengths[i]) for i in episodes])


def select_rows(steps: th.Tensor | TensorDict, rows: th.Tensor | np.ndarray) -> th.Tensor | TensorDict:
    """:return: The rows ``rows`` of a batch's steps (a dict of tensors for Dict observations)"""
    if isinstance(steps, dict):
        return {key: value[rows] for key, value in steps.items()}
    return steps[rows]
