"""
rl_zoo3 glue: run the RL Zoo's own commands (``train``, ``enjoy``, ``record_video``, the plot scripts, ...) with
``reinforce`` registered as an algorithm, and build "a model from a zoo entry" for every tool of this package::

    python -m sb3_reinforce.zoo train --algo reinforce --env CartPole-v1 -f logs/
    python -m sb3_reinforce.zoo enjoy --algo reinforce --env CartPole-v1 -f logs/
    python -m sb3_reinforce.zoo train --algo reinforce --env CartPole-v1 -optimize --n-trials 50 \\
        --storage logs/reinforce-cartpole.log --study-name reinforce-cartpole

Every flag is rl_zoo3's (``python -m sb3_reinforce.zoo train --help``). What this module adds:

- ``reinforce`` in rl_zoo3's algorithm registry, with a hyperparameter sampler and converter for ``-optimize``;
- the envs built as ``SubsetDummyVecEnv`` / ``SubsetSubprocVecEnv``, so REINFORCE steps only the envs it needs;
- ``--algo`` defaults to ``reinforce``, and ``-conf``/``--conf-file`` to our ``zoo_configs/reinforce.yml``;
- the YAML entry (and ``-params`` overrides) is checked before rl_zoo3 builds anything, so a misspelt key or a
  bad value stops the run with a message that names it.

Nothing of rl_zoo3 is copied: registering in its dicts at run time is how an outside algorithm plugs in.
See docs/zoo.md.
"""

import argparse
import difflib
import importlib
import inspect
import runpy
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna
import yaml
from torch import nn

from sb3_reinforce.reinforce import REINFORCE
from sb3_reinforce.vec_env import SubsetDummyVecEnv, SubsetSubprocVecEnv

ALGO = "reinforce"
CONFIG_NAME = f"{ALGO}.yml"

# rl_zoo3 modules that hold the registries, by the name each one imported them under. In rl_zoo3 2.9.2 they all
# share the dict objects of rl_zoo3.utils / rl_zoo3.hyperparams_opt (``from ... import ALGOS``), so one insertion
# would do; setting the key in each module also covers a version whose module keeps a copy.
ALGOS_MODULES = ("rl_zoo3.utils", "rl_zoo3", "rl_zoo3.exp_manager", "rl_zoo3.train", "rl_zoo3.enjoy")
OPTIMIZATION_MODULES = ("rl_zoo3.hyperparams_opt", "rl_zoo3.exp_manager")

# Keys of a YAML entry that rl_zoo3 2.9.2 consumes itself and removes before calling the constructor
# (ExperimentManager.read_hyperparameters / _preprocess_hyperparams / _preprocess_normalization).
# Not in this list although it sounds like it: ``normalize_kwargs`` (only enjoy builds it, from a saved config;
# in a YAML entry it reaches the constructor). Use ``normalize: "dict(norm_reward=False)"``.
ZOO_KEYS = frozenset(
    {"n_timesteps", "n_envs", "normalize", "env_wrapper", "vec_env_wrapper", "frame_stack", "callback", "env_kwargs",
     "monitor_kwargs"}
)  # fmt: skip
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


class ZooConfigError(ValueError):
    """A REINFORCE hyperparameter entry (YAML or ``-params``) that would fail in rl_zoo3."""


# ---------------------------------------------------------------------------------------------------
# The packaged config
# ---------------------------------------------------------------------------------------------------


def default_config() -> Path:
    """
    :return: ``zoo_configs/reinforce.yml`` of the source checkout this module runs from, or else the copy
        installed as package data (``sb3_reinforce/zoo_configs/reinforce.yml``)
    """
    package_dir = Path(__file__).resolve().parent
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
# Hyperparameter search (-optimize)
# ---------------------------------------------------------------------------------------------------

NET_ARCH = {
    "small": dict(pi=[64, 64], vf=[64, 64]),
    "medium": dict(pi=[256, 256], vf=[256, 256]),
}
ACTIVATION_FN: dict[str, type[nn.Module]] = {"tanh": nn.Tanh, "relu": nn.ReLU}


def sample_reinforce_params(trial: optuna.Trial, n_actions: int, n_envs: int, additional_args: dict) -> dict[str, Any]:
    """
    Sampler for REINFORCE hyperparams, with the signature of rl_zoo3's ``HYPERPARAMS_SAMPLER`` entries.

    Every parameter is suggested under its constructor name, so ``trial.params`` is readable as it stands and
    :func:`convert_reinforce_params` only has to build ``policy_kwargs``. The critic's settings are sampled whatever the
    baseline (it is unused without ``baseline="value"``): a fixed search space keeps rl_zoo3's multivariate TPE
    sampler on all parameters.

    :param trial: The optuna trial
    :param n_actions: Not used (action noise is for off-policy algorithms)
    :param n_envs: Not used (a batch is ``n_episodes`` episodes whatever the number of envs)
    :param additional_args: Not used (HER settings)
    :return: Keyword arguments for ``REINFORCE``, merged by rl_zoo3 over the YAML entry
    """
    sampled_params = {
        # N, the batch of complete episodes, on a log scale
        "n_episodes": trial.suggest_categorical("n_episodes", [4, 8, 16, 32, 64]),
        "learning_rate": trial.suggest_float("learning_rate", 1e-5, 1e-2, log=True),
        # REINFORCE is episodic: gamma=1 (the undiscounted return the estimator was derived for) is a candidate
        "gamma": trial.suggest_categorical("gamma", [0.9, 0.95, 0.98, 0.99, 0.995, 0.999, 1.0]),
        "return_type": trial.suggest_categorical("return_type", ["total", "reward_to_go"]),
        "baseline": trial.suggest_categorical("baseline", ["none", "mean", "leave_one_out", "value"]),
        "normalize_advantage": trial.suggest_categorical("normalize_advantage", [True, False]),
        "ent_coef": trial.suggest_float("ent_coef", 1e-8, 0.1, log=True),
        # The loss sums log-probs over whole episodes, so gradient norms grow with episode length
        "max_grad_norm": trial.suggest_float("max_grad_norm", 0.3, 5.0, log=True),
        "critic_learning_rate": trial.suggest_float("critic_learning_rate", 1e-4, 3e-3, log=True),
        "n_critic_updates": trial.suggest_categorical("n_critic_updates", [1, 5, 10, 20]),
        "net_arch": trial.suggest_categorical("net_arch", list(NET_ARCH)),
        "activation_fn": trial.suggest_categorical("activation_fn", list(ACTIVATION_FN)),
    }
    return convert_reinforce_params(sampled_params)


def convert_reinforce_params(sampled_params: dict[str, Any]) -> dict[str, Any]:
    """
    Turn the parameters stored in a trial into REINFORCE's keyword arguments, as rl_zoo3's
    ``HYPERPARAMS_CONVERTER`` entries do (used by ``--trial-id`` to train with a trial's hyperparameters).

    :param sampled_params: ``trial.params`` of a trial sampled by :func:`sample_reinforce_params`
    :return: The hyperparameters with ``net_arch`` and ``activation_fn`` turned into ``policy_kwargs``
    """
    hyperparams = dict(sampled_params)
    policy_kwargs: dict[str, Any] = {}
    if "net_arch" in hyperparams:
        policy_kwargs["net_arch"] = NET_ARCH[hyperparams.pop("net_arch")]
    if "activation_fn" in hyperparams:
        policy_kwargs["activation_fn"] = ACTIVATION_FN[hyperparams.pop("activation_fn")]
    if policy_kwargs:
        hyperparams["policy_kwargs"] = policy_kwargs
    return hyperparams


# ---------------------------------------------------------------------------------------------------
# Registration
# ---------------------------------------------------------------------------------------------------


def register() -> None:
    """
    Register REINFORCE with rl_zoo3 under the name ``reinforce`` (idempotent).

    - ``ALGOS``: ``--algo`` choices (computed when train()/enjoy() build their parser, so after this), the class
      ExperimentManager constructs and enjoy loads;
    - ``HYPERPARAMS_SAMPLER`` / ``HYPERPARAMS_CONVERTER``: ``-optimize`` and ``--trial-id``.
    """
    for name in ALGOS_MODULES:
        importlib.import_module(name).ALGOS[ALGO] = REINFORCE
    for name in OPTIMIZATION_MODULES:
        module = importlib.import_module(name)
        module.HYPERPARAMS_SAMPLER[ALGO] = sample_reinforce_params
        module.HYPERPARAMS_CONVERTER[ALGO] = convert_reinforce_params
    # ExperimentManager picks DummyVecEnv or SubprocVecEnv (--vec-env) by these module names when it is created.
    # The Subset variants let REINFORCE step only the envs its batch needs; for every other algorithm, which steps
    # all envs, they are their SB3 parents.
    exp_manager = importlib.import_module("rl_zoo3.exp_manager")
    exp_manager.DummyVecEnv = SubsetDummyVecEnv  # type: ignore[attr-defined]
    exp_manager.SubprocVecEnv = SubsetSubprocVecEnv  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------------------------
# Checking a config entry before rl_zoo3 runs
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
    from rl_zoo3.exp_manager import ExperimentManager

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
        kwargs = ExperimentManager._preprocess_schedules(kwargs)
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


def find_entry(config: str, env_id: str, allow_default: bool = True) -> tuple[dict[str, Any] | None, str | None]:
    """
    The entry of a YAML config that rl_zoo3 uses for ``env_id``: the same lookup as
    ExperimentManager.read_hyperparameters (the env id, else ``atari`` for Atari envs, else ``default``).

    :param config: Path of the YAML file
    :param env_id: Gymnasium env id
    :param allow_default: Whether the untuned ``default`` entry counts as found
    :return: The entry (as written, unparsed) and its key, or ``(None, None)`` if the file has none for the env
    :raise ZooConfigError: If the file is not a YAML mapping
    """
    import gymnasium as gym
    from huggingface_sb3 import EnvironmentName
    from rl_zoo3.exp_manager import ExperimentManager

    with open(config) as file:
        try:
            entries = yaml.safe_load(file)
        except yaml.YAMLError as error:
            raise ZooConfigError(f"{config}: not valid YAML: {error}") from error
    if not isinstance(entries, dict):
        raise ZooConfigError(f"{config}: expected a mapping from env ids to hyperparameters, got {entries!r}")
    gym_id = EnvironmentName(env_id).gym_id
    if gym_id in entries:
        key = gym_id
    elif gym_id in gym.envs.registry and ExperimentManager.is_atari(gym_id) and "atari" in entries:
        key = "atari"
    elif allow_default and "default" in entries:
        key = "default"
    else:
        return None, None
    return entries[key], key


# ---------------------------------------------------------------------------------------------------
# A model from a zoo entry: the one way every tool (train, compare, variance, benchmarks) builds a run
# ---------------------------------------------------------------------------------------------------


def experiment_manager(algo: str, env_id: str, seed: int = 0, config: str | None = None, **kwargs: Any):
    """
    An rl_zoo3 ``ExperimentManager`` for one run of ``algo`` on ``env_id``, reading its zoo YAML.

    :param algo: rl_zoo3 algorithm name (``reinforce`` is registered here)
    :param env_id: Gymnasium env id
    :param seed: Seed of the run
    :param config: REINFORCE's YAML file (default: :func:`default_config`); other algos read rl_zoo3's own
        ``hyperparams/<algo>.yml`` when this is None
    :param kwargs: Further ExperimentManager arguments (``log_folder``, ``n_timesteps``, ``trained_agent``, ...)
    :return: The manager; ``setup_experiment()`` builds the envs and the model
    """
    from rl_zoo3.exp_manager import ExperimentManager

    register()
    if config is None and algo == ALGO:
        config = str(default_config())
    kwargs.setdefault("args", argparse.Namespace())
    # Saved as args.yml, which enjoy, record_video and push_to_hub read env_kwargs from
    kwargs["args"] = argparse.Namespace(
        **{"algo": algo, "env": env_id, "seed": seed, "env_kwargs": kwargs.get("env_kwargs"), **vars(kwargs["args"])}
    )
    kwargs.setdefault("log_folder", "logs")
    return ExperimentManager(
        algo=algo,
        env_id=env_id,
        seed=seed,
        config=config,  # None: rl_zoo3/hyperparams/<algo>.yml
        eval_freq=kwargs.pop("eval_freq", -1),  # callers evaluate themselves, counting env steps
        save_freq=kwargs.pop("save_freq", -1),
        log_interval=kwargs.pop("log_interval", -1),  # rl_zoo3's default: SB3's own logging interval
        verbose=kwargs.pop("verbose", 0),
        **kwargs,
    )


def zoo_entry(
    algo: str, env_id: str, allow_default: bool = False, config: str | None = None
) -> tuple[dict[str, Any], str, str]:
    """
    The YAML entry rl_zoo3 will train ``algo`` on ``env_id`` with, found as ExperimentManager.read_hyperparameters
    finds it, except that the untuned ``default`` entry is refused unless ``allow_default``.

    :param config: As for :func:`experiment_manager`
    :return: The entry (as written, unparsed), the config file and the entry's key
    :raise ValueError: When the file has no entry for the env
    """
    exp = experiment_manager(algo, env_id, config=config)
    try:
        entry, key = find_entry(exp.config, env_id, allow_default)
        has_default = entry is None and find_entry(exp.config, env_id, allow_default=True)[1] == "default"
    except OSError as error:
        raise ValueError(f"cannot read {algo}'s hyperparameters: {error}") from error
    if entry is None or key is None:
        hint = " (it has an untuned 'default' entry: pass --allow-default to use it)" if has_default else ""
        raise ValueError(f"{algo} has no hyperparameters for {exp.env_name.gym_id} in {exp.config}{hint}")
    return entry, exp.config, key


def make_model(algo: str, env_id: str, seed: int = 0, config: str | None = None, log_folder: str | None = None, **kwargs):
    """
    Build ``algo`` on ``env_id`` with its zoo hyperparameters (envs included), as ``train`` and ``compare`` do.

    :param config: As for :func:`experiment_manager`
    :param log_folder: Where rl_zoo3 writes the run's config; default: a temporary folder
    :param kwargs: Further ExperimentManager arguments
    :return: The model, ready to ``learn``
    """
    import tempfile

    zoo_entry(algo, env_id, config=config)  # a clear error for a missing entry
    log_folder = log_folder or tempfile.mkdtemp(prefix="sb3-reinforce-")
    exp = experiment_manager(algo, env_id, seed, config=config, log_folder=log_folder, **kwargs)
    setup = exp.setup_experiment()
    assert setup is not None
    return setup[0]


def _pre_parser() -> argparse.ArgumentParser:
    """The few rl_zoo3 train/enjoy flags this module reads, spelt as rl_zoo3 spells them (abbreviations work too)."""
    from rl_zoo3.utils import StoreDict

    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--algo", type=str, default=None)
    parser.add_argument("--env", type=str, default="CartPole-v1")
    parser.add_argument("-conf", "--conf-file", type=str, default=None)
    parser.add_argument("-params", "--hyperparams", type=str, nargs="+", action=StoreDict, default=None)
    parser.add_argument("-optimize", "--optimize-hyperparameters", action="store_true", default=False)
    parser.add_argument("--gym-packages", type=str, nargs="+", default=[])
    parser.add_argument("--storage", type=str, default=None)
    parser.add_argument("--study-name", type=str, default=None)
    parser.add_argument("--trial-id", type=int, default=None)
    return parser


def _prepare_train(args: list[str]) -> list[str]:
    """
    :param args: rl_zoo3 train's arguments
    :return: The same, with our defaults for ``--algo`` and ``--conf-file``, once the config entry passed its checks
    """
    known, _ = _pre_parser().parse_known_args(args)
    if known.algo is None:
        args = ["--algo", ALGO, *args]
    if (known.algo or ALGO) != ALGO:
        return args  # another algorithm: rl_zoo3 as it is
    if known.conf_file is None:
        known.conf_file = str(default_config())
        args = [*args, "--conf-file", known.conf_file]

    if known.trial_id is not None:
        # rl_zoo3 2.9.2 loads a trial only `if self.storage and self.study_name and self.trial_id`: otherwise it
        # trains with the config alone, silently
        if not (known.storage and known.study_name):
            raise ZooConfigError("--trial-id needs --storage and --study-name (rl_zoo3 would ignore it)")
        if known.trial_id == 0:
            raise ZooConfigError(
                "rl_zoo3 2.9.2 ignores --trial-id 0 (it tests the id for truth): copy trial 0's params into -params"
            )
    if known.optimize_hyperparameters:
        try:
            import pandas  # noqa: F401
        except ImportError as error:
            # Otherwise the whole search runs, then fails writing its report (optuna's trials_dataframe)
            raise ZooConfigError("-optimize needs pandas (rl_zoo3 writes its report with it): pip install pandas") from error

    config = known.conf_file
    if not config.endswith((".yml", ".yaml")):
        return args  # a Python file or module: rl_zoo3 loads it, we do not run it twice
    for module in known.gym_packages:
        importlib.import_module(module)
    entry, key = find_entry(config, known.env)
    if entry is None:
        return args  # rl_zoo3 raises "Hyperparameters not found for reinforce-<env> in <config>"
    where = f"{config}, entry {key!r}"
    if isinstance(entry, dict) and known.hyperparams:
        entry = {**entry, **known.hyperparams}
        where += " with -params overrides"
    check_hyperparams(entry, where)
    return args


def _prepare_enjoy(args: list[str]) -> list[str]:
    known, _ = _pre_parser().parse_known_args(args)
    return args if known.algo is not None else ["--algo", ALGO, *args]


# ---------------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------------


def _script(module: str) -> Callable[[], None]:
    """An rl_zoo3 tool that is a script (its code under ``if __name__ == "__main__"``), run as ``python -m`` would."""

    def run() -> None:
        runpy.run_module(module, run_name="__main__", alter_sys=True)

    return run


def _record_training() -> None:
    """
    rl_zoo3's record_training, which records each checkpoint with ``python -m rl_zoo3.record_video`` in a subprocess
    and joins the videos with the ``ffmpeg`` command. Both are found on PATH: a ``python`` that runs our registered
    ``record_video`` for that module (any other command goes to this interpreter as it is), and imageio-ffmpeg's
    binary as ``ffmpeg`` (installed with moviepy), so neither plain rl_zoo3 nor a system ffmpeg is needed.
    """
    import os
    import tempfile

    import imageio_ffmpeg

    with tempfile.TemporaryDirectory(prefix="sb3-reinforce-path-") as shims:
        python = Path(shims) / "python"
        python.write_text(
            f"#!/bin/sh\n"
            f'if [ "$1" = "-m" ] && [ "$2" = "rl_zoo3.record_video" ]; then shift 2; '
            f'exec "{sys.executable}" -m sb3_reinforce.zoo record_video "$@"; fi\n'
            f'exec "{sys.executable}" "$@"\n'
        )
        python.chmod(0o755)
        (Path(shims) / "ffmpeg").symlink_to(imageio_ffmpeg.get_ffmpeg_exe())
        saved_path = os.environ.get("PATH", "")
        os.environ["PATH"] = os.pathsep.join([shims, saved_path])
        try:
            _script("rl_zoo3.record_training")()
        finally:
            os.environ["PATH"] = saved_path


def _commands() -> dict[str, tuple[Callable[[list[str]], list[str]], Callable[[], None]]]:
    from rl_zoo3.enjoy import enjoy
    from rl_zoo3.plots import all_plots, plot_from_file, plot_train
    from rl_zoo3.train import train

    def as_is(args: list[str]) -> list[str]:
        return args

    return {
        "train": (_prepare_train, train),
        "enjoy": (_prepare_enjoy, enjoy),
        "record_video": (_prepare_enjoy, _script("rl_zoo3.record_video")),
        "record_training": (_prepare_enjoy, _record_training),
        "plot_train": (as_is, plot_train),
        "all_plots": (as_is, all_plots),
        "plot_from_file": (as_is, plot_from_file),
        "benchmark": (as_is, _script("rl_zoo3.benchmark")),
        # Hugging Face Hub: not run on the project's machines (no network); its parser accepts --algo reinforce.
        # rl_zoo3 2.9.2's push_to_hub does not import with the huggingface_sb3 it installs (generate_metadata)
        "load_from_hub": (_prepare_enjoy, _script("rl_zoo3.load_from_hub")),
    }


USAGE = (
    "usage: sb3-reinforce-zoo COMMAND [rl_zoo3 arguments ...]\n"
    "  train: rl_zoo3's train (--algo reinforce and -conf zoo_configs/reinforce.yml by default)\n"
    "  enjoy, record_video, record_training: rl_zoo3's (--algo reinforce by default)\n"
    "  plot_train, all_plots, plot_from_file, benchmark, load_from_hub: rl_zoo3's, with reinforce registered\n"
    "'sb3-reinforce-zoo COMMAND --help' lists the arguments."
)


def main(argv: list[str] | None = None) -> None:
    """
    Run one of rl_zoo3's commands with REINFORCE registered.

    :param argv: The command and its rl_zoo3 arguments (default: ``sys.argv[1:]``)
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return
    commands = _commands()
    command, args = argv[0], argv[1:]
    if command not in commands:
        raise SystemExit(f"{USAGE}\nerror: unknown command {command!r}")
    prepare, run = commands[command]

    register()
    try:
        args = prepare(args)
    except (ZooConfigError, FileNotFoundError) as error:
        raise SystemExit(f"sb3-reinforce-zoo {command}: error: {error}") from error

    # rl_zoo3's commands read sys.argv
    saved_argv = sys.argv
    sys.argv = [f"sb3-reinforce-zoo {command}", *args]
    try:
        run()
    finally:
        sys.argv = saved_argv


if __name__ == "__main__":
    main()
