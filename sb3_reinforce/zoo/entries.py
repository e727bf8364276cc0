"""
A model from a zoo entry: the one way every tool (``sb3-reinforce train``, ``compare``, ``variance``, the benchmarks)
builds a run, through rl_zoo3's ExperimentManager, and the checks of a REINFORCE entry before rl_zoo3 builds anything.
"""

import argparse
import difflib
import inspect
import tempfile
from pathlib import Path
from typing import Any, cast

import yaml
from rl_zoo3.exp_manager import ExperimentManager
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecEnv

from sb3_reinforce.reinforce import REINFORCE
from sb3_reinforce.vec_env import SubsetDummyVecEnv, SubsetSubprocVecEnv
from sb3_reinforce.zoo.adapter import ZOO_KEYS, check_version, create_study_with, entry_envs, parse_schedules, read_entry
from sb3_reinforce.zoo.registration import ALGO, register
from sb3_reinforce.zoo.storage import (
    HEARTBEAT_INTERVAL,
    check_heartbeat,
    database_url,
    hide_password,
    is_journal,
    open_storage,
)

CONFIG_NAME = f"{ALGO}.yml"

# Constructor arguments that rl_zoo3 passes itself (from --seed, --device, -tb, ...): in an entry they would clash.
SET_BY_ZOO = {
    "env": "--env",
    "seed": "--seed",
    "device": "--device",
    "verbose": "--verbose",
    "tensorboard_log": "-tb/--tensorboard-log",
    "_init_setup_model": None,
}
REINFORCE_KEYS = frozenset(inspect.signature(REINFORCE.__init__).parameters) - {"self"} - set(SET_BY_ZOO)
# Kept for rl_zoo3 to check: policy_kwargs is a Python string it evaluates, policy may be a dotted class path.
_NOT_CHECKED_HERE = {"policy", "policy_kwargs"}
# The VecEnv rl_zoo3 builds (--vec-env dummy/subproc) -> the one a REINFORCE run gets
SUBSET_VEC_ENVS: dict[type[VecEnv], type[VecEnv]] = {DummyVecEnv: SubsetDummyVecEnv, SubprocVecEnv: SubsetSubprocVecEnv}


class ZooConfigError(ValueError):
    """A REINFORCE hyperparameter entry (YAML or ``-params``) that would fail in rl_zoo3."""


def default_config() -> Path:
    """
    :return: ``zoo_configs/reinforce.yml`` of the source checkout this module runs from, or else the copy
        installed as package data (``sb3_reinforce/zoo_configs/reinforce.yml``)
    """
    package_dir = Path(__file__).resolve().parents[1]
    checkout = package_dir.parent
    candidates = [package_dir / "zoo_configs" / CONFIG_NAME]
    # Only trust the parent folder when it is our repository (installed, it is site-packages)
    if (checkout / "pyproject.toml").is_file() and (checkout / "sb3_reinforce").is_dir():
        candidates.insert(0, checkout / "zoo_configs" / CONFIG_NAME)
    for path in candidates:
        if path.is_file():
            return path
    raise FileNotFoundError(f"{CONFIG_NAME} not found (looked for {', '.join(map(str, candidates))}); pass -conf FILE")


# ---------------------------------------------------------------------------------------------------
# Checking an entry before rl_zoo3 builds anything
# ---------------------------------------------------------------------------------------------------


def check_hyperparams(hyperparams: dict[str, Any], where: str = "hyperparameters") -> None:
    """
    Check a REINFORCE entry of an rl_zoo3 config: every key must be one rl_zoo3 consumes or one REINFORCE's
    constructor takes, and the values REINFORCE validates must pass its checks.

    The values are checked by REINFORCE's own constructor, without an env (``_init_setup_model=False``), after
    rl_zoo3's own conversion of ``learning_rate`` (``lin_0.001`` schedules); ``policy_kwargs`` is left to rl_zoo3.

    :param hyperparams: The entry, as read from the YAML file (with ``-params`` overrides)
    :param where: Where the entry comes from, for the message
    :raises ZooConfigError: naming the bad key or value
    """
    if not isinstance(hyperparams, dict):
        raise ZooConfigError(f"{where}: expected a mapping of hyperparameters, got {hyperparams!r}")
    for key in hyperparams:
        if key in SET_BY_ZOO:
            flag = SET_BY_ZOO[key]
            raise ZooConfigError(f"{where}: {key!r} cannot be set in a config" + (f", use {flag}" if flag else ""))
        if key not in ZOO_KEYS and key not in REINFORCE_KEYS:
            close = difflib.get_close_matches(str(key), sorted(ZOO_KEYS | REINFORCE_KEYS), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            if key == "normalize_kwargs":
                hint = ' (rl_zoo3 reads normalization options from normalize, e.g. normalize: "dict(norm_reward=False)")'
            raise ZooConfigError(
                f"{where}: unknown hyperparameter {key!r}{hint}. REINFORCE takes {sorted(REINFORCE_KEYS)}; "
                f"rl_zoo3 reads {sorted(ZOO_KEYS)}"
            )
    if "policy" not in hyperparams:
        raise ZooConfigError(f"{where}: 'policy' is required (e.g. policy: 'MlpPolicy')")
    # rl_zoo3 deletes n_timesteps from the entry even when -n overrides it: it is always required
    n_timesteps = hyperparams.get("n_timesteps")
    if isinstance(n_timesteps, bool) or not isinstance(n_timesteps, (int, float)):
        raise ZooConfigError(
            f"{where}: 'n_timesteps' must be a number, got {n_timesteps!r} (write !!float 1e5: YAML reads 1e5 as a string)"
        )
    n_envs = hyperparams.get("n_envs", 1)
    if isinstance(n_envs, bool) or not isinstance(n_envs, int) or n_envs < 1:
        raise ZooConfigError(f"{where}: 'n_envs' must be an integer >= 1, got {n_envs!r}")

    kwargs = {key: value for key, value in hyperparams.items() if key in REINFORCE_KEYS and key not in _NOT_CHECKED_HERE}
    try:
        kwargs = parse_schedules(kwargs)
    except (ValueError, TypeError) as error:
        raise ZooConfigError(
            f"{where}: invalid learning_rate {hyperparams['learning_rate']!r}: a number or a schedule 'lin_<initial value>' "
            f"(write floats in exponent notation as !!float 1e-3: plain YAML reads 1e-3 as a string) ({error})"
        ) from error
    policy = hyperparams["policy"]
    if not (isinstance(policy, str) and "." not in policy):  # a dotted class path is imported by rl_zoo3
        policy = "MlpPolicy"

    def error_of(kwargs: dict[str, Any]) -> Exception | None:
        try:
            # No env, as in SB3's load(): only the checks REINFORCE makes before building anything
            REINFORCE(policy, None, _init_setup_model=False, **kwargs)  # type: ignore[arg-type]
        except (ValueError, TypeError) as error:
            return error
        return None

    failure = error_of(kwargs)
    if failure is not None:
        # Name the key when the message does not (e.g. numpy's TypeError for a string where a number belongs)
        culprit = next((key for key in kwargs if key not in str(failure) and error_of({key: kwargs[key]})), None)
        named = f"{culprit}={hyperparams[culprit]!r}: " if culprit else ""
        raise ZooConfigError(f"{where}: {named}{failure}") from failure


# ---------------------------------------------------------------------------------------------------
# The ExperimentManager of every run
# ---------------------------------------------------------------------------------------------------


class ZooExperimentManager(ExperimentManager):
    """
    rl_zoo3's ``ExperimentManager``, changed for ``algo="reinforce"`` only; any other algorithm runs as in rl_zoo3.
    For REINFORCE:

    - ``config`` defaults to the packaged ``zoo_configs/reinforce.yml`` (:func:`default_config`);
    - the envs are :class:`~sb3_reinforce.SubsetDummyVecEnv` / :class:`~sb3_reinforce.SubsetSubprocVecEnv`
      (``--vec-env dummy/subproc``), so REINFORCE steps only the envs its batch needs;
    - the entry, with its ``-params`` overrides and a ``--trial-id``'s parameters, passes
      :func:`check_hyperparams` when it is read, before any env, folder or model is made;
    - a ``--trial-id`` that rl_zoo3 2.9.x would silently ignore is refused.

    For every algorithm, a ``--storage`` that is a database URL is checked before anything is built (its driver
    installed, :func:`~sb3_reinforce.zoo.storage.database_url`), and ``-optimize`` opens it with
    :func:`~sb3_reinforce.zoo.storage.open_storage`: a heartbeat for each running trial, so that the trial of a worker
    that died is marked FAIL.

    Its arguments are ExperimentManager's, and:

    :param heartbeat_interval: Seconds between two heartbeats of a running trial, with a database ``--storage``;
        None: no heartbeat
    :param grace_period: Seconds after a trial's last heartbeat before another worker marks it FAIL (default: two
        intervals)
    :raise ZooConfigError: For a ``--trial-id`` rl_zoo3 would ignore, or a bad ``--storage`` or heartbeat
    :raise MissingExtraError: If the driver of the ``--storage`` URL is missing (in one line naming the extra)
    :raise RLZooVersionError: Unless rl_zoo3 2.9.x is installed
    """

    def __init__(
        self,
        *args: Any,
        heartbeat_interval: int | None = HEARTBEAT_INTERVAL,
        grace_period: int | None = None,
        **kwargs: Any,
    ) -> None:
        # Relies on rl_zoo3 2.9.x: create_envs builds self.vec_env_class, and setup_experiment reads the entry first
        check_version()
        bound = inspect.signature(ExperimentManager.__init__).bind(self, *args, **kwargs)
        if bound.arguments["algo"] == ALGO and not bound.arguments.get("config"):
            bound.arguments["config"] = str(default_config())
        super().__init__(*bound.args[1:], **bound.kwargs)
        self.heartbeat_interval, self.grace_period = heartbeat_interval, grace_period
        if self.storage and not is_journal(self.storage):
            try:
                check_heartbeat(heartbeat_interval, grace_period)
                self.storage = database_url(self.storage, needed_by=f"--storage {hide_password(self.storage)}")
            except ValueError as error:
                raise ZooConfigError(str(error)) from None
        if self.algo != ALGO:
            return
        vec_env_class = cast(type[VecEnv], self.vec_env_class)  # rl_zoo3's attribute is typed as the metaclass
        self.vec_env_class = SUBSET_VEC_ENVS.get(vec_env_class, vec_env_class)
        if self.trial_id is not None:
            # rl_zoo3 2.9.x loads a trial only `if self.storage and self.study_name and self.trial_id`: otherwise it
            # trains with the config alone, silently
            if not (self.storage and self.study_name):
                raise ZooConfigError("--trial-id needs --storage and --study-name (rl_zoo3 would ignore it)")
            if self.trial_id == 0:
                raise ZooConfigError(
                    "rl_zoo3 2.9.x ignores --trial-id 0 (it tests the id for truth): copy trial 0's params into -params"
                )

    def hyperparameters_optimization(self) -> None:
        """rl_zoo3's search, with a database ``--storage`` opened by :func:`~sb3_reinforce.zoo.storage.open_storage`."""
        with create_study_with(lambda url: open_storage(url, self.heartbeat_interval, self.grace_period)):
            super().hyperparameters_optimization()

    def read_hyperparameters(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """
        rl_zoo3's, then for REINFORCE :func:`check_hyperparams` on what it read.

        :return: The hyperparameters and the copy rl_zoo3 saves as ``config.yml``
        :raise ZooConfigError: Naming the bad key or value
        """
        hyperparams, saved_hyperparams = super().read_hyperparameters()
        if self.algo == ALGO:
            where = f"{self.config}, the entry for {self.env_name.gym_id!r}"
            if self.custom_hyperparams:
                where += " with -params overrides"
            if self.storage and self.study_name and self.trial_id:
                where += f" and trial {self.trial_id}'s parameters"
            check_hyperparams(hyperparams, where)
        return hyperparams, saved_hyperparams


def experiment_manager(
    algo: str, env_id: str, seed: int = 0, config: str | None = None, **kwargs: Any
) -> ZooExperimentManager:
    """
    An rl_zoo3 ``ExperimentManager`` (:class:`ZooExperimentManager`) for one run of ``algo`` on ``env_id``, reading
    its zoo YAML.

    :param algo: rl_zoo3 algorithm name (``reinforce`` is registered here)
    :param env_id: Gymnasium env id
    :param seed: Seed of the run
    :param config: The YAML file (default: :func:`default_config` for REINFORCE, rl_zoo3's own
        ``hyperparams/<algo>.yml`` for the others)
    :param kwargs: Further ExperimentManager arguments (``log_folder``, ``n_timesteps``, ``trained_agent``, ...)
    :return: The manager; ``setup_experiment()`` builds the envs and the model
    """
    register()
    kwargs.setdefault("args", argparse.Namespace())
    # Saved as args.yml, which enjoy, record_video and push_to_hub read env_kwargs from
    kwargs["args"] = argparse.Namespace(
        **{"algo": algo, "env": env_id, "seed": seed, "env_kwargs": kwargs.get("env_kwargs"), **vars(kwargs["args"])}
    )
    kwargs.setdefault("log_folder", "logs")
    return ZooExperimentManager(
        algo=algo,
        env_id=env_id,
        seed=seed,
        config=config,
        eval_freq=kwargs.pop("eval_freq", -1),  # callers evaluate themselves, counting env steps
        save_freq=kwargs.pop("save_freq", -1),
        log_interval=kwargs.pop("log_interval", -1),  # rl_zoo3's default: SB3's own logging interval
        verbose=kwargs.pop("verbose", 0),
        **kwargs,
    )


# ---------------------------------------------------------------------------------------------------
# Entries, models and envs
# ---------------------------------------------------------------------------------------------------


def _read(exp: ExperimentManager) -> tuple[dict[str, Any], str] | None:
    """:return: The entry ``exp`` reads and its name (``default`` for the untuned fallback, else the env id), or None"""
    try:
        found = read_entry(exp)
    except yaml.YAMLError as error:
        raise ZooConfigError(f"{exp.config}: not valid YAML: {error}") from error
    except OSError as error:
        raise ValueError(f"cannot read {exp.algo}'s hyperparameters: {error}") from error
    if found is None:
        return None
    entry, is_default = found
    return entry, "default" if is_default else exp.env_name.gym_id


def find_entry(algo: str, env_id: str, config: str | None = None) -> tuple[dict[str, Any], str, str] | None:
    """
    The entry rl_zoo3 trains ``algo`` on ``env_id`` with, found by rl_zoo3 itself
    (``ExperimentManager.read_hyperparameters``: the env id, else ``atari`` for an Atari env, else ``default``).

    :param algo: rl_zoo3 algorithm name
    :param env_id: Gymnasium env id
    :param config: As for :func:`experiment_manager`
    :return: The entry (as written, unparsed), the config file, and the entry's name: ``default`` for the untuned
        fallback, else the env id; None if the config has no entry for the env
    :raise ZooConfigError: If the config is not valid YAML
    :raise ValueError: If it cannot be read
    """
    exp = experiment_manager(algo, env_id, config=config)
    found = _read(exp)
    return None if found is None else (found[0], exp.config, found[1])


def zoo_entry(
    algo: str, env_id: str, allow_default: bool = False, config: str | None = None
) -> tuple[dict[str, Any], str, str]:
    """
    :func:`find_entry`, except that the untuned ``default`` entry is refused unless ``allow_default``.

    :param allow_default: Whether the ``default`` entry counts as found
    :return: The entry (as written, unparsed), the config file and the entry's name
    :raise ValueError: When the file has no entry for the env, or cannot be read
    """
    exp = experiment_manager(algo, env_id, config=config)
    found = _read(exp)
    if found is None or (found[1] == "default" and not allow_default):
        hint = " (it has an untuned 'default' entry: pass --allow-default to use it)" if found else ""
        raise ValueError(f"{algo} has no hyperparameters for {exp.env_name.gym_id} in {exp.config}{hint}")
    return found[0], exp.config, found[1]


def make_model(
    algo: str, env_id: str, seed: int = 0, config: str | None = None, log_folder: str | None = None, **kwargs: Any
) -> BaseAlgorithm:
    """
    Build ``algo`` on ``env_id`` with its zoo hyperparameters (envs included), as ``train`` and ``compare`` do.

    :param config: As for :func:`experiment_manager`
    :param log_folder: Where rl_zoo3 writes the run's config; default: a temporary folder
    :param kwargs: Further ExperimentManager arguments
    :return: The model, ready to ``learn``
    """
    zoo_entry(algo, env_id, config=config)  # a clear error for a missing entry
    log_folder = log_folder or tempfile.mkdtemp(prefix="sb3-reinforce-")
    exp = experiment_manager(algo, env_id, seed, config=config, log_folder=log_folder, **kwargs)
    setup = exp.setup_experiment()
    assert setup is not None
    return setup[0]


def make_env(
    algo: str, env_id: str, seed: int = 0, config: str | None = None, n_envs: int | None = None, **kwargs: Any
) -> tuple[VecEnv, dict[str, Any]]:
    """
    The training envs of ``algo``'s entry for ``env_id``, built as for :func:`make_model` but without a model (for a
    tool that builds its own): the entry's wrappers and ``normalize``, and with ``trained_agent`` the VecNormalize
    statistics saved beside it. No Monitor files are written.

    :param config: As for :func:`experiment_manager`
    :param n_envs: Number of envs (default: the entry's)
    :param kwargs: Further ExperimentManager arguments (``trained_agent``, ``device``, ...)
    :return: The VecEnv and the entry's hyperparameters as the algorithm's constructor takes them (``policy``
        included; schedules built, ``policy_kwargs`` evaluated, rl_zoo3's own keys removed)
    """
    check_version()
    exp = experiment_manager(algo, env_id, seed, config=config, **kwargs)
    return entry_envs(exp, n_envs)
