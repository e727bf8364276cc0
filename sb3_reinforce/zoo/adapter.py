"""
Everything of the zoo glue that relies on rl_zoo3 beyond its public API, in one place, for the version it was
written for: rl_zoo3 2.9.x.

rl_zoo3 has no plugin interface. What is used here has no public route, and each function checks the installed
version first (:func:`check_version`), so another rl_zoo3 fails with a clear message instead of misbehaving:

- :data:`ZOO_KEYS`: the keys of an entry that rl_zoo3 consumes itself;
- :func:`read_entry`: ``ExperimentManager.read_hyperparameters`` tells that it fell back to the untuned ``default``
  entry only by printing it;
- :func:`parse_schedules` and :func:`entry_envs`: ``ExperimentManager._preprocess_schedules`` and
  ``_preprocess_hyperparams``, the only route from an entry to its schedules, wrappers and envs without a model;
- :func:`train_with`: ``rl_zoo3.train.train()`` builds the ExperimentManager its module names;
- :func:`record_video_here`: ``record_training`` runs ``python -m rl_zoo3.record_video`` in subprocesses;
- :func:`create_study_with`: ``hyperparameters_optimization`` gives optuna a database ``--storage`` as a string.

The registries (``rl_zoo3.ALGOS``, ``HYPERPARAMS_SAMPLER``, ``HYPERPARAMS_CONVERTER``) are public module dicts:
:func:`sb3_reinforce.zoo.register` adds to them, after the same version check.
"""

import contextlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import optuna
import rl_zoo3
from rl_zoo3.exp_manager import ExperimentManager
from stable_baselines3.common.vec_env import VecEnv

RL_ZOO3_SERIES = "2.9"
"""The rl_zoo3 release series (major.minor) this module was written for"""
RL_ZOO3_REQUIREMENT = "rl_zoo3>=2.9.2,<2.10"

# Keys of an entry that rl_zoo3 2.9.x consumes itself and removes before calling the constructor
# (ExperimentManager.read_hyperparameters / _preprocess_hyperparams / _preprocess_normalization).
# Not in this list although it sounds like it: ``normalize_kwargs`` (only enjoy builds it, from a saved config;
# in an entry it reaches the constructor). Use ``normalize: "dict(norm_reward=False)"``.
ZOO_KEYS = frozenset(
    {"n_timesteps", "n_envs", "normalize", "env_wrapper", "vec_env_wrapper", "frame_stack", "callback", "env_kwargs",
     "monitor_kwargs"}
)  # fmt: skip

# What read_hyperparameters of rl_zoo3 2.9.x prints when the config has no entry for the env but a ``default`` one
_DEFAULT_ENTRY_LINE = "Using 'default' hyperparameters"


class RLZooVersionError(RuntimeError):
    """The installed rl_zoo3 is not the release series this glue was written for."""


def check_version() -> None:
    """
    :raise RLZooVersionError: Unless the installed rl_zoo3 is 2.9.x
    """
    version = str(rl_zoo3.__version__)
    if version.split(".")[:2] != RL_ZOO3_SERIES.split("."):
        raise RLZooVersionError(
            f"sb3_reinforce.zoo was written for rl_zoo3 {RL_ZOO3_SERIES}.x (it registers REINFORCE in rl_zoo3's "
            f"registries and extends its ExperimentManager), but rl_zoo3 {version} is installed: "
            f"pip install '{RL_ZOO3_REQUIREMENT}'"
        )


def read_entry(exp: ExperimentManager) -> tuple[dict[str, Any], bool] | None:
    """
    The entry ``exp`` trains with, found by rl_zoo3's own ``ExperimentManager.read_hyperparameters`` (the env id,
    else ``atari`` for an Atari env, else ``default``), without the hyperparameters it prints.

    :param exp: The manager (its ``config``, env and ``-params`` overrides)
    :return: The entry as written, with the manager's overrides, and whether it is the untuned ``default`` entry;
        None when the config has no entry for the env
    """
    check_version()
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            # The base class's: a subclass may check the entry, and this is the entry as written
            entry, _ = ExperimentManager.read_hyperparameters(exp)
    except ValueError as error:
        if str(error).startswith("Hyperparameters not found"):
            return None
        raise
    return entry, _DEFAULT_ENTRY_LINE in printed.getvalue()


def parse_schedules(hyperparams: dict[str, Any]) -> dict[str, Any]:
    """
    rl_zoo3's conversion of ``learning_rate`` (and the other schedule keys): a number to a constant schedule,
    ``lin_<initial value>`` to a linear one.

    :param hyperparams: Keyword arguments of an entry (changed in place)
    :return: The same dict
    :raise ValueError: For a string that is not ``lin_<number>``, and (TypeError) for a value of another type
    """
    check_version()
    return ExperimentManager._preprocess_schedules(hyperparams)


def entry_envs(exp: ExperimentManager, n_envs: int | None = None) -> tuple[VecEnv, dict[str, Any]]:
    """
    The training envs of ``exp``'s entry without a model: the envs ``setup_experiment`` builds (with the entry's
    wrappers, VecNormalize, and a ``trained_agent``'s saved statistics), no Monitor files.

    :param exp: The manager
    :param n_envs: Number of envs (default: the entry's ``n_envs``)
    :return: The VecEnv, and the hyperparameters as the algorithm's constructor takes them (schedules built,
        ``policy_kwargs`` evaluated, rl_zoo3's own keys removed)
    """
    check_version()
    hyperparams, _ = exp.read_hyperparameters()
    hyperparams, exp.env_wrapper, _, exp.vec_env_wrapper = exp._preprocess_hyperparams(hyperparams)
    return exp.create_envs(n_envs or exp.n_envs, no_log=True), hyperparams


@contextlib.contextmanager
def train_with(manager_class: Callable[..., ExperimentManager]) -> Iterator[None]:
    """
    ``rl_zoo3.train.train()`` builds ``manager_class`` instead of rl_zoo3's ExperimentManager, for the duration.

    :param manager_class: A subclass of ExperimentManager, or a ``functools.partial`` of one
    """
    check_version()
    import rl_zoo3.train

    saved = rl_zoo3.train.ExperimentManager
    rl_zoo3.train.ExperimentManager = manager_class  # type: ignore[misc,assignment]
    try:
        yield
    finally:
        rl_zoo3.train.ExperimentManager = saved  # type: ignore[misc]


@contextlib.contextmanager
def create_study_with(open_storage: Callable[[str], optuna.storages.BaseStorage]) -> Iterator[None]:
    """
    For the duration, a storage that ``optuna.create_study`` is given as a string is opened by ``open_storage``.

    rl_zoo3 2.9.x's ``ExperimentManager.hyperparameters_optimization`` opens a ``--storage`` ending in ``.log`` itself
    (a journal file) and passes any other to ``optuna.create_study`` as the string, which optuna opens with its
    defaults: no heartbeat, so the trial of a worker that died stays RUNNING for ever. The method has no hook for the
    storage (and is over a hundred lines to copy): only the string it passes is replaced.

    :param open_storage: ``open_storage(url)`` is the storage
    """
    check_version()
    create_study = optuna.create_study

    def create_study_here(*args: Any, **kwargs: Any) -> optuna.Study:
        if isinstance(kwargs.get("storage"), str):
            kwargs["storage"] = open_storage(kwargs["storage"])
        return create_study(*args, **kwargs)

    optuna.create_study = create_study_here  # type: ignore[assignment]
    try:
        yield
    finally:
        optuna.create_study = create_study


@contextlib.contextmanager
def record_video_here() -> Iterator[None]:
    """
    For the duration, the subprocesses that rl_zoo3's ``record_training`` starts run our ``record_video``.

    rl_zoo3 2.9.x's record_training runs ``subprocess.call(["python", "-m", "rl_zoo3.record_video", ...])`` for
    each checkpoint: ``python`` is whatever comes first on PATH (not necessarily this interpreter), and a fresh
    rl_zoo3 process does not know ``reinforce``. Only that command is changed, to
    ``sys.executable -m sb3_reinforce.zoo record_video ...``. It then joins the videos with the ``ffmpeg`` command:
    if there is none on PATH, imageio-ffmpeg's binary (installed with moviepy) is put there as ``ffmpeg``.
    """
    check_version()
    call = subprocess.call

    def call_here(args: Any, *more: Any, **kwargs: Any) -> int:
        if isinstance(args, list) and args[:3] == ["python", "-m", "rl_zoo3.record_video"]:
            args = [sys.executable, "-m", "sb3_reinforce.zoo", "record_video", *args[3:]]
        return call(args, *more, **kwargs)

    saved_path = os.environ.get("PATH", "")
    with tempfile.TemporaryDirectory(prefix="sb3-reinforce-ffmpeg-") as folder:
        if shutil.which("ffmpeg") is None:
            import imageio_ffmpeg

            (Path(folder) / "ffmpeg").symlink_to(imageio_ffmpeg.get_ffmpeg_exe())
            os.environ["PATH"] = os.pathsep.join([folder, saved_path])
        subprocess.call = call_here  # type: ignore[assignment]
        try:
            yield
        finally:
            subprocess.call = call
            os.environ["PATH"] = saved_path
