"""
Callbacks that count calls, under subset stepping.

SB3 calls ``callback.on_step()`` once per ``env.step()``, which steps all ``num_envs`` envs, and some callbacks
count those calls: ``EvalCallback`` evaluates every ``eval_freq`` calls and ``CheckpointCallback`` saves every
``save_freq`` calls, i.e. every ``eval_freq * num_envs`` env steps (rl_zoo3 divides the frequencies it is given by
``n_envs`` for that reason), and ``ProgressBarCallback`` advances by ``num_envs`` per call. REINFORCE on a
:class:`~sb3_reinforce.vec_env.SubsetDummyVecEnv` or :class:`~sb3_reinforce.vec_env.SubsetSubprocVecEnv` steps only
the envs its batch needs, so a call can cover fewer than ``num_envs`` env steps, and those callbacks would fire
early and the bar run past its total.

:class:`~sb3_reinforce.REINFORCE` therefore passes every callback through :func:`count_env_steps`:

- a call-counting callback (:func:`counts_calls`: ``EvalCallback`` and its subclasses such as rl_zoo3's
  ``TrialEvalCallback``, ``CheckpointCallback``, rl_zoo3's ``SaveVecNormalizeCallback``) is wrapped in
  :class:`EveryNumEnvsSteps`, which calls it once per ``num_envs`` env steps, as SB3's own algorithms do;
- SB3's ``ProgressBarCallback`` is driven by :class:`EnvStepProgressBarCallback`, which advances it by the env steps
  taken, so the bar ends at ``num_timesteps``.

Every other callback is called once per call, as before, whatever the number of envs that call stepped: a callback
that needs to know reads ``self.locals["stepped"]``, the indices of the envs stepped (the entries of ``dones``,
``rewards`` and ``infos`` for the others are ``False``, 0 and ``{}``), or counts ``self.num_timesteps``, which
counts real env steps. To have a callback of your own counted in env steps, wrap it yourself:
``model.learn(..., callback=EveryNumEnvsSteps(MyCallback()))``.
"""

import copy
from typing import Any

from stable_baselines3.common.callbacks import (
    BaseCallback,
    CallbackList,
    CheckpointCallback,
    ConvertCallback,
    EvalCallback,
    ProgressBarCallback,
)
from stable_baselines3.common.type_aliases import MaybeCallback

#: Callbacks that count calls, matched with isinstance
CALL_COUNTING_TYPES: tuple[type[BaseCallback], ...] = (EvalCallback, CheckpointCallback)
#: Callbacks that count calls, matched by (module, class name) anywhere in the class's MRO, so that checking for them
#: imports nothing: the core does not import rl_zoo3
CALL_COUNTING_NAMES: frozenset[tuple[str, str]] = frozenset({("rl_zoo3.callbacks", "SaveVecNormalizeCallback")})


def counts_calls(callback: BaseCallback) -> bool:
    """:return: Whether ``callback`` is one of the known callbacks that count calls (``n_calls``) to mean env steps"""
    return isinstance(callback, CALL_COUNTING_TYPES) or any(
        (cls.__module__, cls.__qualname__) in CALL_COUNTING_NAMES for cls in type(callback).__mro__
    )


class EveryNumEnvsSteps(BaseCallback):
    """
    Call ``callback`` once per ``num_envs`` env steps, counted in ``model.num_timesteps`` since the start of
    ``learn()``: a callback that counts its calls then counts as it would with SB3's own algorithms, whose every call
    steps ``num_envs`` envs, however many envs each call steps.

    ``callback.on_step()`` is called each time the env steps since the start of ``learn()`` cross a multiple of
    ``num_envs``. A call steps at most ``num_envs`` envs, so this happens at most once per call, at the first call
    that reaches the multiple (the crossing step itself may overshoot it by up to ``num_envs - 1`` env steps). Env
    steps short of a multiple at the end of ``learn()`` are not carried to the next ``learn()`` call. Every other event
    (training and rollout start and end, and the locals) is passed on unchanged.

    :param callback: The callback to call once per ``num_envs`` env steps
    """

    def __init__(self, callback: BaseCallback):
        super().__init__()
        self.callback = callback
        self._start = 0
        self._n_envs = 1
        self._n_forwarded = 0

    def _init_callback(self) -> None:
        self.callback.init_callback(self.model)

    def _on_training_start(self) -> None:
        # As CallbackList does (SB3 issue #1791): the wrapped callback has this one's parent, which CallbackList sets
        # after init_callback
        self.callback.parent = self.parent
        self._start = self.model.num_timesteps
        self._n_envs = self.training_env.num_envs
        self._n_forwarded = 0
        self.callback.on_training_start(self.locals, self.globals)

    def _on_rollout_start(self) -> None:
        self.callback.on_rollout_start()

    def _on_step(self) -> bool:
        due = (self.model.num_timesteps - self._start) // self._n_envs
        while self._n_forwarded < due:
            self._n_forwarded += 1
            if not self.callback.on_step():
                return False
        return True

    def _on_rollout_end(self) -> None:
        self.callback.on_rollout_end()

    def _on_training_end(self) -> None:
        self.callback.on_training_end()

    def update_child_locals(self, locals_: dict[str, Any]) -> None:
        self.callback.update_locals(locals_)


class EnvStepProgressBarCallback(BaseCallback):
    """
    Drives SB3's :class:`~stable_baselines3.common.callbacks.ProgressBarCallback` by the env steps taken
    (``model.num_timesteps``) instead of ``num_envs`` per call, so that the bar ends at ``num_timesteps``.

    The bar itself stays the given callback's (``bar.pbar``): rl_zoo3's ExperimentManager keeps its
    ProgressBarCallback and closes it itself after ``learn()`` (``callbacks[0].on_training_end()``), so that object
    must be the one that opened the bar.

    :param bar: The progress bar to drive (default: a new ``ProgressBarCallback``)
    """

    def __init__(self, bar: ProgressBarCallback | None = None):
        super().__init__()
        self.bar = bar if bar is not None else ProgressBarCallback()
        self._last_num_timesteps = 0

    def _init_callback(self) -> None:
        self.bar.init_callback(self.model)

    def _on_training_start(self) -> None:
        self.bar.on_training_start(self.locals, self.globals)  # opens bar.pbar, sized by learn()'s total_timesteps
        self._last_num_timesteps = self.model.num_timesteps

    def _on_step(self) -> bool:
        self.bar.pbar.update(self.model.num_timesteps - self._last_num_timesteps)
        self._last_num_timesteps = self.model.num_timesteps
        return True

    def _on_training_end(self) -> None:
        self.bar.on_training_end()


def _count_env_steps(callback: BaseCallback) -> BaseCallback:
    """:return: ``callback`` with its call-counting callbacks wrapped and SB3's progress bar driven by env steps"""
    if isinstance(callback, EveryNumEnvsSteps):
        return callback  # already counted in env steps
    if type(callback) is ProgressBarCallback:  # exactly SB3's: a subclass may count in its own way
        return EnvStepProgressBarCallback(callback)
    if counts_calls(callback):
        return EveryNumEnvsSteps(callback)
    if isinstance(callback, CallbackList):
        children = [_count_env_steps(child) for child in callback.callbacks]
        if any(new is not old for new, old in zip(children, callback.callbacks, strict=True)):
            # A copy: the caller's CallbackList and list (rl_zoo3's ExperimentManager.callbacks) keep their callbacks
            callback = copy.copy(callback)
            callback.callbacks = children
    # An EventCallback's child (EvalCallback's callback_on_new_best, EveryNTimesteps' callback) is called once per
    # event, not once per step, so it is not wrapped: it would miss events
    return callback


def count_env_steps(callback: MaybeCallback, progress_bar: bool = False) -> MaybeCallback:
    """
    Make the known call-counting callbacks of ``callback`` count in env steps, for an algorithm whose calls to
    ``callback.on_step()`` may each step fewer than ``num_envs`` envs. Called by ``REINFORCE._init_callback``.

    :param callback: The ``callback`` argument of ``learn()``: None, a callback, a list of callbacks or a function
    :param progress_bar: The ``progress_bar`` argument of ``learn()``: whether to add a progress bar
    :return: ``callback`` (never modified in place) with each callback of :func:`counts_calls` found in it or in its
        CallbackLists wrapped in :class:`EveryNumEnvsSteps`, each SB3 ``ProgressBarCallback`` driven by
        :class:`EnvStepProgressBarCallback`, and one more of those if ``progress_bar``. Pass the result to SB3's
        ``_init_callback`` with ``progress_bar=False``.
    """
    callbacks: list[Any] = []
    if isinstance(callback, list):
        callbacks = [_count_env_steps(child) for child in callback]
    elif isinstance(callback, BaseCallback):
        callbacks = [_count_env_steps(callback)]
    elif callback is not None:
        callbacks = [ConvertCallback(callback)]  # as SB3 converts a function
    if progress_bar:
        callbacks.append(EnvStepProgressBarCallback())
    if isinstance(callback, list) or progress_bar:
        return callbacks
    return callbacks[0] if callbacks else callback
