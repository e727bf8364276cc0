import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar, NamedTuple, TypeVar

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.distributions import Distribution as SB3Distribution
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback, Schedule, TensorDict
from stable_baselines3.common.utils import explained_variance, obs_as_tensor
from stable_baselines3.common.vec_env import VecEnv
from torch.distributions import Distribution
from torch.nn import functional as F

from sb3_reinforce.buffers import BatchProgress, EpisodeBatch, EpisodeRolloutBuffer
from sb3_reinforce.callbacks import count_env_steps
from sb3_reinforce.checks import check_finite_step, check_number, check_positive_int, check_spaces, warn_if_no_time_limit
from sb3_reinforce.estimators import advantages, bootstrap_rewards, check_settings, critic_targets, pad_episodes
from sb3_reinforce.policies import CnnPolicy, MlpPolicy, MultiInputPolicy
from sb3_reinforce.recurrent import (
    RECURRENT_POLICIES,
    LSTMStates,
    episode_chunks,
    episode_rows,
    is_recurrent,
    recurrent_policy_class,
    select_rows,
    unrolled_log_prob,
    unrolled_values,
    zero_states,
)
from sb3_reinforce.vec_env import StepAllEnvs, StepNeededEnvs, SubsetVecEnv, subset_step_unsupported

SelfREINFORCE = TypeVar("SelfREINFORCE", bound="REINFORCE")


class Losses(NamedTuple):
    """The loss terms of one batch, from :meth:`REINFORCE.compute_losses`; the policy step minimizes
    ``policy_loss + ent_coef * entropy_loss``."""

    policy_loss: th.Tensor
    entropy_loss: th.Tensor


class CriticBatch(NamedTuple):
    """The critic's side of one batch (value baseline only), from :meth:`REINFORCE.compute_losses`."""

    values: th.Tensor
    """V(s_t) of every step, as the policy step's baseline used them: before the critic's fit on this batch"""
    targets: th.Tensor
    """The reward-to-go G_t of every step, bootstrapped at a time-limit truncation: what the critic is fitted on"""


# A rollout still running after this many steps per env is probably waiting for an episode that never ends
LONG_ROLLOUT_STEPS = 100_000


@contextmanager
def _distribution_validation(enabled: bool) -> Iterator[None]:
    """Switch torch.distributions' argument checks, which cost about 10% of a small policy's forward."""
    previous = Distribution._validate_args
    Distribution.set_default_validate_args(enabled)
    try:
        yield
    finally:
        Distribution.set_default_validate_args(previous)


class REINFORCE(OnPolicyAlgorithm):
    """
    REINFORCE: the Monte-Carlo policy gradient, trained on complete episodes

    Paper: Williams (1992), "Simple statistical gradient-following algorithms for connectionist reinforcement
    learning", https://doi.org/10.1007/BF00992696
    Textbook: Sutton & Barto (2018), ch. 13.3 "REINFORCE" and 13.4 "REINFORCE with Baseline"

    What it estimates, the bias of each baseline and of normalization, which episodes form a batch, and the
    time-limit bootstrap: docs/estimator.md.

    Each update samples ``n_episodes`` complete episodes with the current policy and takes one gradient step on

        L = -(1/N) sum_i sum_t A_it * log pi(a_t|s_t)  -  ent_coef * (1/N) sum_i sum_t H(pi(.|s_t))

    with the gradient clipped to norm ``max_grad_norm``. A_it is the return (``return_type``) minus the baseline
    (``baseline``), times gamma^t if ``discount_steps``, then standardized over the batch's steps if
    ``normalize_advantage`` (:mod:`sb3_reinforce.estimators`). With ``baseline="value"`` the critic is a separate
    regression with its own optimizer, fitted after the policy step.

    Evaluate on an env of its own, never on the training env (``model.get_env()``): ``evaluate_policy`` resets and
    steps the env it is given, and a later ``learn(..., reset_num_timesteps=False)`` would continue from observations
    the envs no longer hold, splicing two episodes into one. With a Subset VecEnv (:mod:`sb3_reinforce.vec_env`),
    which counts its resets and steps, ``learn()`` detects it: it warns, drops the unfinished batch and resets the
    envs. Other VecEnvs keep no such count, so the splice would go unnoticed.

    :param policy: The policy model to use (MlpPolicy, CnnPolicy, MultiInputPolicy)
    :param env: The environment to learn from (if registered in Gym, can be str). Its episodes must end: wrap
        never-ending envs in a ``gymnasium.wrappers.TimeLimit``.
    :param learning_rate: The learning rate, it can be a function of the current progress remaining (from 1 to 0)
    :param n_episodes: The N of the estimator: complete episodes per update
    :param gamma: Discount factor, in [0, 1]
    :param return_type: ``"total"`` weights every step of episode i by its discounted return R(tau_i), the estimator
        as derived; ``"reward_to_go"`` weights step t by G_t = sum_{k>=t} gamma^(k-t) r_k (lower variance)
    :param baseline: ``"none"``; ``"mean"``: the batch mean of the returns at the same step (needs N >= 2);
        ``"leave_one_out"``: the same mean over the other N-1 episodes only (unbiased, needs N >= 2); ``"value"``: a
        learned critic V(s) regressed on G_t (Sutton & Barto 13.4), V(s_t) for ``"reward_to_go"`` and V(s_0) for
        ``"total"``, evaluated before the critic sees the batch
    :param normalize_advantage: Whether to standardize A over the steps of the batch
    :param discount_steps: Whether to weight step t by gamma^t, as Sutton & Barto's REINFORCE does (13.3). Only with
        ``return_type="reward_to_go"``, where it makes the estimate the gradient of the discounted return
    :param bootstrap_truncated: The return of an episode that the env's time limit ended (REINFORCE never cuts one
        itself), with ``baseline="value"``. True: completed with gamma * V(s_T), the critic's value of the observation
        the limit cut it at, as SB3's A2C and PPO do (Pardo et al. 2018, "Time Limits in Reinforcement Learning"; SB3
        issue #633), since the time left is not part of the state. False: the sum of the rewards received, the exact
        Monte-Carlo return of the truncated episode. Without a critic there is nothing to bootstrap with, and the
        option has no effect.
    :param ent_coef: Entropy coefficient (>= 0) of the bonus (1/N) sum_i sum_t H(pi(.|s_t)), a loss term of its own
        (not a reward added to the returns)
    :param critic_learning_rate: Learning rate of the critic's own Adam optimizer (value baseline only)
    :param n_critic_updates: Passes over each batch of the critic's regression on the returns, after the policy step
        (value baseline only)
    :param critic_batch_size: Minibatch size (steps) of the critic's regression (value baseline only)
    :param max_grad_norm: The maximum value for the gradient clipping of the policy step (> 0; ``float("inf")``
        turns clipping off)
    :param use_sde: Whether to use generalized State Dependent Exploration (gSDE)
        instead of action noise exploration (default: False)
    :param sde_sample_freq: Sample a new noise matrix every n steps when using gSDE
        Default: -1 (only sample at the beginning of the rollout)
    :param rollout_buffer_class: Episode buffer class to use, a subclass of ``EpisodeRolloutBuffer``.
        If ``None``, ``EpisodeRolloutBuffer`` is used.
    :param rollout_buffer_kwargs: Keyword arguments to pass to the rollout buffer on creation
        (e.g. ``max_memory_bytes``)
    :param stats_window_size: Window size for the rollout logging, specifying the number of episodes to average
        the reported success rate, mean episode length, and mean reward over
    :param tensorboard_log: the log location for tensorboard (if None, no logging)
    :param policy_kwargs: additional arguments to be passed to the policy on creation
    :param verbose: Verbosity level: 0 for no output, 1 for info messages (such as device or wrappers used), 2 for
        debug messages
    :param seed: Seed for the pseudo random generators
    :param device: Device (cpu, cuda, ...) on which the code should be run.
        Setting it to auto, the code will be run on the GPU if possible.
    :param _init_setup_model: Whether or not to build the network at the creation of the instance
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {
        "MlpPolicy": MlpPolicy,
        "CnnPolicy": CnnPolicy,
        "MultiInputPolicy": MultiInputPolicy,
    }
    rollout_buffer: EpisodeRolloutBuffer  # type: ignore[assignment]

    def _get_policy_from_name(self, policy_name: str) -> type[BasePolicy]:
        # The LSTM policies are sb3-contrib's (the recurrent extra): imported only when asked for
        if policy_name in RECURRENT_POLICIES:
            return recurrent_policy_class(policy_name)
        return super()._get_policy_from_name(policy_name)

    def __init__(
        self,
        policy: str | type[MlpPolicy],
        env: GymEnv | str,
        learning_rate: float | Schedule = 3e-3,
        n_episodes: int = 8,
        gamma: float = 0.99,
        return_type: str = "reward_to_go",
        baseline: str = "leave_one_out",
        normalize_advantage: bool = True,
        discount_steps: bool = False,
        bootstrap_truncated: bool = True,
        ent_coef: float = 0.0,
        critic_learning_rate: float = 1e-3,
        n_critic_updates: int = 10,
        critic_batch_size: int = 64,
        max_grad_norm: float = 0.5,
        use_sde: bool = False,
        sde_sample_freq: int = -1,
        rollout_buffer_class: type[EpisodeRolloutBuffer] | None = None,
        rollout_buffer_kwargs: dict[str, Any] | None = None,
        stats_window_size: int = 100,
        tensorboard_log: str | None = None,
        policy_kwargs: dict[str, Any] | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: th.device | str = "auto",
        _init_setup_model: bool = True,
    ):
        # Check everything we can before the env is built, so bad input fails before any work.
        check_positive_int("n_episodes", n_episodes)
        check_number("gamma", gamma, 0.0, 1.0)
        check_settings(n_episodes, return_type, baseline, discount_steps)
        check_number("ent_coef", ent_coef, 0.0)
        check_number("critic_learning_rate", critic_learning_rate, 0.0)
        check_positive_int("n_critic_updates", n_critic_updates)
        check_positive_int("critic_batch_size", critic_batch_size)
        check_number("max_grad_norm", max_grad_norm, 0.0, low_inclusive=False, inf_ok=True)  # inf: no clipping
        if not callable(learning_rate):
            check_number("learning_rate", learning_rate, 0.0)
        if rollout_buffer_class is not None and not (
            isinstance(rollout_buffer_class, type) and issubclass(rollout_buffer_class, EpisodeRolloutBuffer)
        ):
            raise ValueError(f"rollout_buffer_class must be a subclass of EpisodeRolloutBuffer, got {rollout_buffer_class!r}")

        super().__init__(
            policy,
            env,
            learning_rate=learning_rate,
            # n_steps, gae_lambda and vf_coef mean nothing here: see _drop_unused_parent_settings
            n_steps=None,  # type: ignore[arg-type]
            gamma=gamma,
            gae_lambda=1.0,
            ent_coef=ent_coef,
            vf_coef=0.0,
            max_grad_norm=max_grad_norm,
            use_sde=use_sde,
            sde_sample_freq=sde_sample_freq,
            rollout_buffer_class=rollout_buffer_class,  # type: ignore[arg-type]
            rollout_buffer_kwargs=rollout_buffer_kwargs,
            stats_window_size=stats_window_size,
            tensorboard_log=tensorboard_log,
            policy_kwargs=policy_kwargs,
            verbose=verbose,
            device=device,
            seed=seed,
            _init_setup_model=False,
            supported_action_spaces=None,  # checked below with a ValueError that names the space
        )
        self._drop_unused_parent_settings()

        self.n_episodes = int(n_episodes)
        self.return_type = return_type
        self.baseline = baseline
        self.normalize_advantage = normalize_advantage
        self.discount_steps = discount_steps
        self.bootstrap_truncated = bootstrap_truncated
        self.critic_learning_rate = float(critic_learning_rate)
        self.n_critic_updates = int(n_critic_updates)
        self.critic_batch_size = int(critic_batch_size)
        self.critic_optimizer: th.optim.Optimizer | None = None

        if self.env is not None:
            check_spaces(self.observation_space, self.action_space)
            warn_if_no_time_limit(self.env)

        if _init_setup_model:
            self._setup_model()

    def _setup_model(self) -> None:
        self._drop_unused_parent_settings()
        self._setup_lr_schedule()
        self.set_random_seed(self.seed)

        buffer_class: type[EpisodeRolloutBuffer] = self.rollout_buffer_class or EpisodeRolloutBuffer  # type: ignore[assignment]
        self.rollout_buffer_class = buffer_class  # type: ignore[assignment]
        self.rollout_buffer = buffer_class(
            self.observation_space,
            self.action_space,
            device=self.device,
            n_envs=self.n_envs,
            **self.rollout_buffer_kwargs,
        )
        self.policy = self.policy_class(  # type: ignore[assignment]
            self.observation_space, self.action_space, self.lr_schedule, use_sde=self.use_sde, **self.policy_kwargs
        )
        self.policy = self.policy.to(self.device)
        if self.baseline == "value":
            # The critic's own Adam (Sutton & Barto 13.4 use a step size per estimator): V is regressed on the returns
            # with n_critic_updates passes per batch, after the policy step (see train())
            self.critic_optimizer = th.optim.Adam(self._critic_parameters(), lr=self.critic_learning_rate)
        self._maybe_recommend_cpu()
        self._n_discarded_steps = 0
        self._batch_progress: BatchProgress | None = None
        # SubsetVecEnv.n_calls when the last learn() returned: a different count means someone else used the envs
        self._env_calls_at_return: int | None = None
        # A recurrent policy's actor LSTM state in each env, carried from step to step during collection
        self._lstm_states: LSTMStates | None = None

    def _drop_unused_parent_settings(self) -> None:
        """
        A rollout is ``n_episodes`` complete episodes, returns are Monte-Carlo and the critic has its own optimizer: the
        parent's ``n_steps``, ``gae_lambda`` and ``vf_coef`` would only mislead a tool that reads them. ``n_steps`` stays
        as None, which ``OnPolicyAlgorithm.learn()`` passes to ``collect_rollouts()``. ``_setup_model()`` runs this too,
        for ``load()`` restores them from models saved before they were dropped.
        """
        self.n_steps = None  # type: ignore[assignment]
        for name in ("gae_lambda", "vf_coef"):
            self.__dict__.pop(name, None)

    def _critic_parameters(self) -> list[th.nn.Parameter]:
        """:return: The value network's own parameters; a features extractor shared with the actor is the actor's"""
        policy = self.policy
        params = [*policy.mlp_extractor.value_net.parameters(), *policy.value_net.parameters()]
        for name in ("lstm_critic", "critic"):  # a recurrent policy's critic LSTM, or its linear layer without one
            module = getattr(policy, name, None)
            if isinstance(module, th.nn.Module):
                params += list(module.parameters())
        if not policy.share_features_extractor:
            params += list(policy.vf_features_extractor.parameters())
        return params

    def _get_torch_save_params(self) -> tuple[list[str], list[str]]:
        state_dicts, variables = super()._get_torch_save_params()
        if self.critic_optimizer is not None:
            state_dicts.append("critic_optimizer")
        return state_dicts, variables

    def _excluded_save_params(self) -> list[str]:
        # An unfinished batch lives in the rollout buffer, which is not saved either; a loaded model starts afresh
        return [*super()._excluded_save_params(), "_batch_progress", "_env_stepper", "_env_calls_at_return", "_lstm_states"]

    def _setup_learn(
        self,
        total_timesteps: int,
        callback: MaybeCallback = None,
        reset_num_timesteps: bool = True,
        tb_log_name: str = "run",
        progress_bar: bool = False,
    ) -> tuple[int, BaseCallback]:
        if not reset_num_timesteps and self._last_obs is not None and self._envs_used_outside_learn():
            self._last_obs = None  # type: ignore[assignment]  # the parent resets the envs
        if reset_num_timesteps or self._last_obs is None:
            # The parent resets the envs: a batch left unfinished by the last learn() call cannot continue
            self._batch_progress = None
            self._lstm_states = None
        total_timesteps, callback = super()._setup_learn(
            total_timesteps, callback, reset_num_timesteps, tb_log_name, progress_bar
        )
        assert self.env is not None
        if is_recurrent(self.policy) and self._lstm_states is None:
            # Every env starts an episode after the reset, which zeroes its state anyway
            self._lstm_states = zero_states(self.policy.lstm_actor, self.env.num_envs, self.device)  # type: ignore[arg-type]
        self._env_stepper = self._choose_env_stepper(self.env)
        return total_timesteps, callback

    def _subset_env_calls(self) -> int | None:
        """:return: The resets and steps the training env has made, if it counts them (a Subset VecEnv), else None"""
        base = None if self.env is None else self.env.unwrapped
        return base.n_calls if isinstance(base, SubsetVecEnv) else None

    def _envs_used_outside_learn(self) -> bool:
        """
        Whether the training env was reset or stepped since the last ``learn()`` returned (``evaluate_policy`` on
        ``model.get_env()``, say); if so, warn that the envs are reset and an unfinished batch is dropped.
        """
        n_calls = self._subset_env_calls()
        if n_calls is None or self._env_calls_at_return is None or n_calls == self._env_calls_at_return:
            return False
        progress = self._batch_progress
        dropped = (
            f"The unfinished batch ({progress.n_finished} of {self.n_episodes} episodes ended, {progress.n_env_steps} "
            "env steps) is dropped and the envs are reset"
            if progress is not None
            else "The envs are reset"
        )
        warnings.warn(
            f"The training env was reset or stepped {n_calls - self._env_calls_at_return} times outside learn() since "
            "the last call (evaluate_policy(model, model.get_env()), for example), so its envs no longer hold the "
            f"observations REINFORCE saw last. {dropped}, so that no episode is spliced from two. Evaluate on an env "
            "of its own.",
            UserWarning,
            stacklevel=5,  # the caller of learn()
        )
        return True

    def _init_callback(self, callback: MaybeCallback, progress_bar: bool = False) -> BaseCallback:
        """
        SB3's, with the callbacks that count calls made to count env steps (``sb3_reinforce.callbacks``): with a Subset
        VecEnv one call of ``on_step()`` may step fewer than ``num_envs`` envs, yet EvalCallback and CheckpointCallback
        should fire every ``freq * num_envs`` env steps, and the progress bar end at ``num_timesteps``. Other callbacks
        are called once per call; ``locals["stepped"]`` holds the indices of the envs that call stepped.
        """
        return super()._init_callback(count_env_steps(callback, progress_bar), progress_bar=False)

    @staticmethod
    def _choose_env_stepper(env: VecEnv) -> StepAllEnvs:
        """Step only the envs a batch needs where the VecEnv allows it (see ``sb3_reinforce.vec_env``)."""
        if env.num_envs == 1:
            return StepAllEnvs()  # one env is never idle
        reason = subset_step_unsupported(env)
        if reason is None:
            return StepNeededEnvs()
        warnings.warn(
            f"REINFORCE steps all {env.num_envs} envs at every step because {reason}. Envs whose batch episode has "
            "ended then run episodes that no batch can use: about half of all steps with 8 envs and n_episodes=8. "
            "Build the env with vec_env_cls=SubsetDummyVecEnv or SubsetSubprocVecEnv (sb3_reinforce.vec_env) to "
            "step only the envs the batch needs.",
            UserWarning,
            stacklevel=4,
        )
        return StepAllEnvs()

    def collect_rollouts(  # type: ignore[override]
        self,
        env: VecEnv,
        callback: BaseCallback,
        rollout_buffer: EpisodeRolloutBuffer,
        n_rollout_steps: int = 0,
    ) -> bool:
        """
        Collect ``n_episodes`` complete episodes with the current policy into ``rollout_buffer``.

        Largely a copy of SB3's ``OnPolicyAlgorithm.collect_rollouts``; lines marked ``# REINFORCE:`` are changed.
        The batch is the first ``n_episodes`` episodes to *start* after the update (ties broken by env index),
        each run to completion (:class:`~sb3_reinforce.buffers.BatchProgress`). With a
        :class:`~sb3_reinforce.vec_env.SubsetDummyVecEnv` or :class:`~sb3_reinforce.vec_env.SubsetSubprocVecEnv`
        only the envs that run a batch episode, or can still start one, are stepped; the others wait at the start
        of their next episode, so no step is wasted. With any other VecEnv every env is stepped.

        Collection stops at the ``learn()`` budget, or when a callback returns False. The unfinished batch is kept,
        not trained on: a later ``learn(..., reset_num_timesteps=False)`` continues it with the same, unchanged
        policy, so its episodes stay exact. An exception during collection drops it and resets the envs at the
        next ``learn()``, since the envs' state is then unknown.

        :param env: The training environment
        :param callback: Callback that will be called at each step
            (and at the beginning and end of the rollout)
        :param rollout_buffer: Buffer to fill with episodes
        :param n_rollout_steps: Not used (REINFORCE: a rollout ends when its episodes end)
        :return: True if the batch was completed, False if the budget or a callback stopped collection first.
        """
        assert self._last_obs is not None, "No previous observation was provided"
        # Switch to eval mode (this affects batch norm / dropout)
        self.policy.set_training_mode(False)

        if self._batch_progress is None:  # REINFORCE: a new batch, or else the unfinished one continues
            rollout_buffer.reset()
            self._batch_progress = BatchProgress(env.num_envs, self.n_episodes)
            # Sample new weights for the state dependent exploration
            if self.use_sde:
                self.policy.reset_noise(env.num_envs)
        progress = self._batch_progress
        stepper = getattr(self, "_env_stepper", None) or StepAllEnvs()

        callback.on_rollout_start()
        try:
            completed = self._collect_batch(env, callback, rollout_buffer, progress, stepper)
        except BaseException:
            # REINFORCE: an exception (KeyboardInterrupt included) may come between an env's step and our record of
            # it: forget the batch, and let the next learn() reset the envs rather than trust self._last_obs
            self._batch_progress = None
            self._last_obs = None  # type: ignore[assignment]
            raise
        if not completed:
            return False
        self._batch_progress = None

        # REINFORCE: every step outside the batch's episodes was sampled but cannot be used
        self._n_discarded_steps += progress.n_env_steps - rollout_buffer.n_episode_steps
        self._record_discarded_frac()

        callback.update_locals(locals())

        callback.on_rollout_end()

        return True

    def _record_discarded_frac(self) -> None:
        # Over this learn() call: the steps of an unfinished batch are not counted as discarded, they wait for it
        n_since_start = max(self.num_timesteps - self._num_timesteps_at_start, 1)
        self.logger.record("rollout/discarded_frac", self._n_discarded_steps / n_since_start)

    def _collect_batch(
        self,
        env: VecEnv,
        callback: BaseCallback,
        rollout_buffer: EpisodeRolloutBuffer,
        progress: BatchProgress,
        stepper: StepAllEnvs,
    ) -> bool:
        """The step loop of :meth:`collect_rollouts`: :return: whether the batch is complete"""
        while not progress.complete:  # REINFORCE: run until every batch episode has ended
            if self.num_timesteps >= self._total_timesteps:
                # REINFORCE: the budget is spent; the unfinished batch waits for the next learn() call, which logs it
                return False
            # REINFORCE: an env at an episode boundary starts a batch episode while places are left
            progress.start_episodes(self._last_episode_starts, rollout_buffer.pos)  # type: ignore[arg-type]
            # REINFORCE: the envs running a batch episode, and those finishing an episode that no batch uses
            stepped = stepper.select(progress.running | ~self._last_episode_starts)  # type: ignore[operator]

            if self.use_sde and self.sde_sample_freq > 0 and rollout_buffer.pos % self.sde_sample_freq == 0:
                # Sample a new noise matrix
                self.policy.reset_noise(env.num_envs)

            # REINFORCE: inference_mode, no argument validation, actor only: values and log-probs are computed in
            # train(), with gradients. The sampled actions' distribution is unchanged.
            with th.inference_mode(), _distribution_validation(False):
                # Convert to pytorch tensor or to TensorDict
                obs_tensor = obs_as_tensor(self._last_obs, self.device)  # type: ignore[arg-type]
                distribution: SB3Distribution
                if self._lstm_states is None:
                    distribution = self.policy.get_distribution(obs_tensor)
                else:
                    # REINFORCE: the LSTM state is zeroed at an episode's start, and advances only in the envs stepped
                    distribution = self._recurrent_step(obs_tensor, stepped)
                actions = distribution.get_actions().cpu().numpy()
            # Reshape to the action space's shape, as policy.forward does (e.g. Box actions of shape (2, 2))
            actions = actions.reshape((-1, *self.action_space.shape))  # type: ignore[misc, arg-type]

            # Rescale and perform action
            clipped_actions = actions

            if isinstance(self.action_space, spaces.Box):
                if self.policy.squash_output:
                    # Unscale the actions to match env bounds
                    # if they were previously squashed (scaled in [-1, 1])
                    clipped_actions = self.policy.unscale_action(clipped_actions)
                else:
                    # Otherwise, clip the actions to avoid out of bound error
                    # as we are sampling from an unbounded Gaussian distribution
                    clipped_actions = np.clip(actions, self.action_space.low, self.action_space.high)

            # REINFORCE: envs that are not stepped keep their observation, with reward 0 and done False
            new_obs, rewards, dones, infos = stepper.step(env, stepped, clipped_actions, self._last_obs)  # type: ignore[arg-type]
            check_finite_step(new_obs, rewards, dones, infos, self.num_timesteps)  # REINFORCE: fail loudly, never train on NaN

            self.num_timesteps += len(stepped)  # REINFORCE: real env steps only
            progress.n_env_steps += len(stepped)

            # Give access to local variables
            callback.update_locals(locals())
            if not callback.on_step():
                # REINFORCE: keep the envs' state and the stored steps, so a later learn() continues the batch. The
                # step is stored first: the envs have taken it.
                self._record_step(rollout_buffer, progress, stepped, actions, new_obs, rewards, dones, infos)
                return False

            self._update_info_buffer(infos, dones)
            self._record_step(rollout_buffer, progress, stepped, actions, new_obs, rewards, dones, infos)
            if rollout_buffer.pos == LONG_ROLLOUT_STEPS:  # REINFORCE: say why learn() seems stuck
                warnings.warn(
                    f"The rollout has run {rollout_buffer.pos} steps per env and only {progress.n_finished} of its "
                    f"{self.n_episodes} episodes have ended (batch episodes still running in envs "
                    f"{np.flatnonzero(progress.running).tolist()}). If they never end, wrap the env in "
                    "gymnasium.wrappers.TimeLimit.",
                    UserWarning,
                )
        return True

    def _recurrent_step(self, obs: th.Tensor | TensorDict, stepped: np.ndarray) -> SB3Distribution:
        """
        One step of a recurrent policy during collection, as RecurrentPPO takes it: the LSTM state of an env whose
        observation starts an episode is zeroed, and the new state is kept for the envs stepped now (an env that
        waits keeps its state untouched).

        :return: The action distribution of every env
        """
        assert self._lstm_states is not None and self._last_episode_starts is not None
        starts = th.as_tensor(self._last_episode_starts, dtype=th.float32, device=self.device)
        # sb3-contrib's get_distribution(obs, lstm_states, episode_starts) returns the new states too
        output: Any = self.policy.get_distribution(obs, self._lstm_states, starts)  # type: ignore[call-arg]
        distribution, (hidden, cell) = output
        keep = th.ones(len(starts), dtype=th.bool, device=self.device)
        keep[th.as_tensor(stepped, device=self.device)] = False
        keep = keep.view(1, -1, 1)
        self._lstm_states = (th.where(keep, self._lstm_states[0], hidden), th.where(keep, self._lstm_states[1], cell))
        return distribution

    def _record_step(
        self,
        rollout_buffer: EpisodeRolloutBuffer,
        progress: BatchProgress,
        stepped: np.ndarray,
        actions: np.ndarray,
        new_obs: Any,
        rewards: np.ndarray,
        dones: np.ndarray,
        infos: list[dict[str, Any]],
    ) -> None:
        """
        Store one step, then close the batch episodes that just ended. There is no bootstrap here: a truncated
        episode keeps its terminal observation and train() decides.
        """
        row = rollout_buffer.add(self._last_obs, actions, rewards)  # type: ignore[arg-type]
        for idx in np.flatnonzero(dones):
            start = progress.finish_episode(int(idx))
            if start is not None:
                truncated = bool(infos[idx].get("TimeLimit.truncated", False))
                rollout_buffer.add_episode(int(idx), start, row, truncated, infos[idx].get("terminal_observation"))
        self._last_obs = new_obs
        # An env that was not stepped is still where it was: at the start of an episode
        self._last_episode_starts = self._last_episode_starts.copy()  # type: ignore[union-attr]
        self._last_episode_starts[stepped] = dones[stepped]

    def compute_losses(self, batch: EpisodeBatch) -> tuple[Losses, CriticBatch | None]:
        """
        The loss terms of one batch of complete episodes, with gradients (``train()`` combines and minimizes them).

        The advantages come from :mod:`sb3_reinforce.estimators`, in float64 numpy: they carry no gradient. With the
        value baseline, V is evaluated here without gradients, by the critic as it was fitted on earlier batches: the
        baseline does not depend on this batch's actions. ``train()`` fits the critic afterwards.

        :param batch: Episodes from ``EpisodeRolloutBuffer.get()``
        :return: The policy and entropy losses; and for the value baseline, the values the baseline used and the
            critic's regression targets
        """
        rewards, values = batch.rewards, None
        if self.baseline == "value":
            values, terminal_values = self.predict_batch_values(batch)
            if self.bootstrap_truncated and terminal_values is not None:
                rewards = bootstrap_rewards(rewards, batch.lengths, batch.truncated, terminal_values, self.gamma)
        advantages_np = advantages(
            rewards,
            batch.lengths,
            self.gamma,
            self.return_type,
            self.baseline,
            values=None if values is None else pad_episodes(values.cpu().numpy(), batch.lengths),
            discount_steps=self.discount_steps,
            normalize_advantage=self.normalize_advantage,
        )

        actions = batch.actions
        if isinstance(self.action_space, spaces.Discrete):
            # Convert discrete action from float to long
            actions = actions.long().flatten()
        if is_recurrent(self.policy):
            # Each episode from its first step, with a zero LSTM state: the histories the policy acted on
            log_prob, entropy = unrolled_log_prob(self.policy, batch.observations, actions, batch.lengths)
        else:
            distribution = self.policy.get_distribution(batch.observations)
            log_prob, entropy = distribution.log_prob(actions), distribution.entropy()

        n_episodes = len(batch.lengths)
        # The REINFORCE estimator (Williams 1992; Sutton & Barto eq. 13.8):
        #   L = -(1/N) sum_i sum_t A_it * log pi(a_t | s_t)
        policy_loss = -(th.as_tensor(advantages_np, dtype=th.float32, device=self.device) * log_prob).sum() / n_episodes
        # Entropy bonus: -(1/N) sum_i sum_t H(pi(.|s_t)) (-log pi estimates H where there is no closed form)
        entropy_loss = -(entropy if entropy is not None else -log_prob).sum() / n_episodes

        critic = None
        if values is not None:
            targets = critic_targets(rewards, batch.lengths, self.gamma)
            critic = CriticBatch(values, th.as_tensor(targets, dtype=th.float32, device=self.device))
        return Losses(policy_loss, entropy_loss), critic

    def predict_batch_values(self, batch: EpisodeBatch) -> tuple[th.Tensor, np.ndarray | None]:
        """
        The critic's values for a batch, without gradients: the baseline's V(s_t), and the V(s_T) that completes the
        return of an episode ended by a time limit (:func:`~sb3_reinforce.estimators.bootstrap_rewards`).

        :param batch: Episodes from ``EpisodeRolloutBuffer.get()``
        :return: V(s_t) of every step of the batch, and V(s_T) of each truncated episode (None if no episode was
            truncated)
        """
        with th.no_grad():
            if is_recurrent(self.policy):
                values, terminal = unrolled_values(
                    self.policy, batch.observations, batch.lengths, batch.truncated, batch.terminal_observations
                )
                return values, None if terminal is None else terminal.cpu().numpy()
            values = self.policy.predict_values(batch.observations).flatten()
            if not batch.truncated.any():
                return values, None
            assert batch.terminal_observations is not None
            return values, self.policy.predict_values(batch.terminal_observations).flatten().cpu().numpy()

    def train(self) -> None:
        """
        Update policy using the episodes in the rollout buffer: one gradient step on the whole batch, then, with
        the value baseline, ``n_critic_updates`` passes of the critic's own regression on the batch's returns.
        """
        # Switch to train mode (this affects batch norm / dropout)
        self.policy.set_training_mode(True)

        # Update optimizer learning rate
        self._update_learning_rate(self.policy.optimizer)

        batch = self.rollout_buffer.get()
        losses, critic = self.compute_losses(batch)

        # The policy step
        loss = losses.policy_loss + self.ent_coef * losses.entropy_loss
        self.policy.optimizer.zero_grad()
        loss.backward()
        grad_norm = th.nn.utils.clip_grad_norm_(self.policy.parameters(), self.max_grad_norm)
        if not th.isfinite(grad_norm):
            raise FloatingPointError(
                f"The gradient norm is {grad_norm.item()} (loss {loss.item()}); the update was skipped so the "
                "parameters stay finite. Check the rewards' scale, or lower learning_rate."
            )
        self.policy.optimizer.step()

        # The critic's fit, after the policy step, so the next batch's baseline comes from this one
        if critic is not None:
            if is_recurrent(self.policy):
                self._fit_recurrent_critic(batch, critic.targets)
            else:
                self._fit_critic(batch.observations, critic.targets)

        self._n_updates += 1
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/policy_loss", losses.policy_loss.item())
        self.logger.record("train/entropy_loss", losses.entropy_loss.item())
        self.logger.record("train/grad_norm", grad_norm.item())
        self.logger.record("train/n_episodes", len(batch.lengths))
        self.logger.record("train/batch_steps", int(batch.lengths.sum()))
        if critic is not None:
            # Of the baseline the policy step used, i.e. before the critic saw this batch
            self.logger.record("train/value_loss", F.mse_loss(critic.values, critic.targets).item())
            self.logger.record(
                "train/explained_variance", explained_variance(critic.values.cpu().numpy(), critic.targets.cpu().numpy())
            )
        if hasattr(self.policy, "log_std"):
            self.logger.record("train/std", th.exp(self.policy.log_std).mean().item())

    def _fit_critic(self, observations: th.Tensor | TensorDict, targets: th.Tensor) -> None:
        """Regress V(s_t) on the Monte-Carlo returns: ``n_critic_updates`` shuffled passes of minibatch Adam steps."""
        assert self.critic_optimizer is not None
        n_steps = len(targets)
        for _ in range(self.n_critic_updates):
            for indices in th.randperm(n_steps, device=self.device).split(self.critic_batch_size):
                obs = select_rows(observations, indices)
                self._critic_step(F.mse_loss(self.policy.predict_values(obs).flatten(), targets[indices]))

    def _critic_step(self, value_loss: th.Tensor) -> None:
        """One Adam step of the critic on a minibatch's regression loss, refused if the loss is not finite."""
        assert self.critic_optimizer is not None
        if not th.isfinite(value_loss):
            raise FloatingPointError(
                f"The critic's regression loss is {value_loss.item()}; its update was skipped so the "
                "parameters stay finite. Check the rewards' scale, or lower critic_learning_rate."
            )
        self.critic_optimizer.zero_grad()
        value_loss.backward()
        self.critic_optimizer.step()

    def _fit_recurrent_critic(self, batch: EpisodeBatch, targets: th.Tensor) -> None:
        """:meth:`_fit_critic` for a recurrent critic: each minibatch holds whole episodes, unrolled from their start."""
        assert self.critic_optimizer is not None
        for _ in range(self.n_critic_updates):
            for episodes in episode_chunks(batch.lengths, self.critic_batch_size):
                rows = th.as_tensor(episode_rows(batch.lengths, episodes), device=self.device)
                values, _ = unrolled_values(self.policy, select_rows(batch.observations, rows), batch.lengths[episodes])
                self._critic_step(F.mse_loss(values, targets[rows]))

    def learn(
        self: SelfREINFORCE,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 10,
        tb_log_name: str = "REINFORCE",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfREINFORCE:
        self._n_discarded_steps = 0  # rollout/discarded_frac covers this call to learn()
        n_updates = self._n_updates
        super().learn(
            total_timesteps=total_timesteps,
            callback=callback,
            log_interval=log_interval,
            tb_log_name=tb_log_name,
            reset_num_timesteps=reset_num_timesteps,
            progress_bar=progress_bar,
        )
        self._env_calls_at_return = self._subset_env_calls()
        progress = self._batch_progress
        if progress is not None:
            # The budget (or a callback) ended collection mid-batch: say so in the log, which SB3 would only write
            # after the next update
            self.logger.record("rollout/unfinished_batch_episodes", self.n_episodes - progress.n_finished)
            self.logger.record("rollout/unfinished_batch_steps", progress.n_env_steps)
            self._record_discarded_frac()
            self.dump_logs(self._n_updates)
        if self._n_updates == n_updates:
            finished = 0 if progress is None else progress.n_finished
            warnings.warn(
                f"learn() ended at {self.num_timesteps} env steps without a single update: {finished} of the "
                f"{self.n_episodes} episodes of the batch had ended. The unfinished batch is kept, and "
                "learn(..., reset_num_timesteps=False) continues it; a larger total_timesteps, a smaller n_episodes or "
                "a shorter time limit makes a batch fit in one call.",
                UserWarning,
                stacklevel=2,
            )
        return self
