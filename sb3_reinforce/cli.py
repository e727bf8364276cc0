"""
The ``sb3-reinforce`` command line. Each subcommand reads its flags, and their ``--help`` text, from a dataclass.

    sb3-reinforce train --env CartPole-v1 --total-timesteps 100000

Each subcommand needs an extra (``train``: zoo; ``compare``, ``variance``: compare). Without it, the command stops in
one line that names the extra to install, before any work; ``--help`` works without.
"""

import argparse
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import tyro

from sb3_reinforce.compare import CompareArgs, run_compare
from sb3_reinforce.extras import MissingExtraError, require_extra
from sb3_reinforce.reinforce import REINFORCE
from sb3_reinforce.variance import VarianceArgs, run_variance


@dataclass
class AlgorithmArgs:
    """REINFORCE's hyperparameters. Each one left unset comes from the zoo entry, or else from REINFORCE's defaults
    (see the REINFORCE docstring)."""

    learning_rate: float | None = None
    """Adam learning rate of the policy"""
    n_episodes: int | None = None
    """Complete episodes per update (the N of the estimator)"""
    gamma: float | None = None
    """Discount factor, in [0, 1]"""
    return_type: Literal["total", "reward_to_go"] | None = None
    """Weight of log pi(a_t|s_t): the whole return R(tau) or the reward-to-go G_t"""
    baseline: Literal["none", "mean", "leave_one_out", "value"] | None = None
    """What is subtracted from the return"""
    normalize_advantage: bool | None = None
    """Standardize the advantages over the batch"""
    discount_steps: bool | None = None
    """Weight step t by gamma^t (Sutton & Barto 13.3; reward_to_go only)"""
    ent_coef: float | None = None
    """Entropy bonus coefficient"""
    critic_learning_rate: float | None = None
    """Learning rate of the critic's own Adam (value baseline only)"""
    n_critic_updates: int | None = None
    """Passes of the critic's regression over each batch (value baseline only)"""
    critic_batch_size: int | None = None
    """Minibatch size of the critic's regression (value baseline only)"""
    max_grad_norm: float | None = None
    """Gradient clipping norm"""
    net_arch: list[int] | None = None
    """Hidden layer sizes of the policy and value networks (replaces the entry's policy_kwargs)"""


@dataclass
class TrainArgs:
    """Train REINFORCE on a Gymnasium env with its tuned zoo entry (zoo_configs/reinforce.yml) when there is one,
    evaluate it deterministically, and save it in rl_zoo3's layout (sb3-reinforce-zoo enjoy, record_video, ... load
    it). Each flag that is set overrides one value of the entry."""

    env: str = "CartPole-v1"
    """Gymnasium env id; an env of your own package needs --gym-packages"""
    gym_packages: list[str] = field(default_factory=list)
    """Python modules to import before the env is made, so that they register their envs with gymnasium (as rl_zoo3's
    --gym-packages)"""
    env_kwargs: list[str] = field(default_factory=list)
    """Keyword arguments of the env's constructor, as rl_zoo3 spells them: KEY:VALUE, where VALUE is a Python expression
    (length:10 slippery:False name:"'maze'"); saved with the run, so enjoy and the evaluation build the same env"""
    config: str | None = None
    """Hyperparameter file in rl_zoo3's format (default: the packaged zoo_configs/reinforce.yml)"""
    total_timesteps: int | None = None
    """Env steps to train for (default: the entry's n_timesteps, or 100000 without an entry)"""
    n_envs: int | None = None
    """Parallel envs (default: the entry's, or 8); SubsetDummyVecEnv: only the envs a batch needs are stepped"""
    normalize: bool | None = None
    """VecNormalize, as rl_zoo3's normalize key: True normalizes the observations and the rewards (SB3's VecNormalize
    defaults, rewards scaled with the entry's gamma; the final evaluation sees raw rewards) and replaces the entry's own
    setting, such as the MuJoCo entries' observations-only dict(norm_obs=True, norm_reward=False); False turns it off
    (default: the entry's normalize)"""
    seed: int = 0
    """Random seed for the envs, the policy and the sampling"""
    eval_episodes: int = 100
    """Episodes of the deterministic evaluation after training"""
    log_folder: str = "logs"
    """The run goes to <log-folder>/reinforce/<env>_<n>/: the model, its VecNormalize statistics and its config"""
    torch_threads: int = 1
    """torch.set_num_threads; 1 is fastest for small MLPs on CPU"""
    progress_bar: bool = True
    """Show a progress bar while training"""
    verbose: int = 0
    """SB3 verbosity (1 prints the training logs)"""
    algo: AlgorithmArgs = field(default_factory=AlgorithmArgs)


# Without an entry: the class defaults, with this budget and number of envs
NO_ENTRY = {"n_timesteps": 100_000, "policy": "MlpPolicy", "n_envs": 8}


def _overrides(args: TrainArgs) -> dict[str, Any]:
    """The entry values that flags replace, in the entry's own keys (rl_zoo3's ``-params``)."""
    overrides = {key: value for key, value in asdict(args.algo).items() if value is not None}
    if "net_arch" in overrides:
        net_arch = overrides.pop("net_arch")
        overrides["policy_kwargs"] = dict(net_arch=dict(pi=net_arch, vf=net_arch))
    if args.n_envs is not None:
        overrides["n_envs"] = args.n_envs
    if args.normalize is not None:
        overrides["normalize"] = args.normalize
    return overrides


def parse_env_kwargs(items: list[str]) -> dict[str, Any]:
    """
    ``--env-kwargs``, read as rl_zoo3's ``StoreDict`` reads it: ``KEY:VALUE``, where ``VALUE`` (everything after the
    first ``:``) is evaluated as a Python expression.

    :param items: The ``KEY:VALUE`` strings
    :return: The keyword arguments
    :raises ValueError: An item without ``:``, a key that is not a Python name, or a value that is not an expression,
        named with the item
    """
    env_kwargs: dict[str, Any] = {}
    for item in items:
        key, colon, value = item.partition(":")
        if not colon or not key.isidentifier():
            raise ValueError(f"--env-kwargs: {item!r} is not KEY:VALUE with KEY a Python name (e.g. length:10)")
        try:
            env_kwargs[key] = eval(value, {})  # rl_zoo3's StoreDict evaluates the value the same way
        except Exception as error:
            raise ValueError(
                f"--env-kwargs: the value of {item!r} is not a Python expression ({type(error).__name__}: {error}); "
                f"quote a string twice, e.g. {key}:\"'text'\""
            ) from None
    return env_kwargs


def check_env_id(env_id: str, gym_packages: list[str]) -> None:
    """
    Import ``gym_packages`` (each registers its envs with gymnasium when imported), then check that gymnasium knows
    ``env_id``, before any training.

    :param env_id: The env id
    :param gym_packages: Modules to import
    :raises ValueError: A module that does not import, or an id gymnasium does not know (in one line that names the
        imported packages and how to add one)
    """
    import difflib
    import importlib

    import gymnasium as gym

    for module in gym_packages:
        try:
            importlib.import_module(module)
        except ImportError as error:
            raise ValueError(f"--gym-packages: cannot import {module!r} ({error})") from None
    if env_id not in gym.registry:
        close = difflib.get_close_matches(env_id, list(gym.registry), n=1)
        imported = ", ".join(["gymnasium", *gym_packages])
        raise ValueError(
            f"unknown env id {env_id!r} (registered after importing {imported})"
            + (f"; did you mean {close[0]!r}?" if close else "")
            + "; an env of your own package: add --gym-packages MODULE, the module whose import registers it"
        )


def evaluate_run(run_dir: str | Path, env_id: str, n_episodes: int, seed: int) -> tuple[float, float]:
    """
    Load a saved run and evaluate its deterministic policy, on an env built as rl_zoo3's ``enjoy`` builds it from
    the run's saved config: its ``env_wrapper``, ``env_kwargs`` and ``frame_stack``, and, if the run normalized
    observations, its VecNormalize statistics, frozen.

    :param run_dir: ``<log-folder>/reinforce/<env>_<n>``
    :param env_id: The env id
    :param n_episodes: Evaluation episodes
    :param seed: Seed of the evaluation env
    :return: Mean and std of the episode returns (the env's own rewards: VecNormalize does not scale them here)
    """
    import yaml
    from huggingface_sb3 import EnvironmentName
    from rl_zoo3.utils import create_test_env, get_saved_hyperparams
    from stable_baselines3.common.evaluation import evaluate_policy

    run_dir = Path(run_dir)
    name = EnvironmentName(env_id)  # rl_zoo3's file names: my_pkg/MyEnv-v0 is saved as my_pkg-MyEnv-v0
    hyperparams, stats_path = get_saved_hyperparams(str(run_dir / name), norm_reward=False, test_mode=True)
    env_kwargs = hyperparams.pop("env_kwargs", None) or {}
    args_file = run_dir / name / "args.yml"
    if args_file.is_file():  # the command line's env_kwargs, which rl_zoo3 saves beside the config
        env_kwargs.update(yaml.load(args_file.read_text(), Loader=yaml.UnsafeLoader).get("env_kwargs") or {})
    env = create_test_env(
        env_id, n_envs=1, stats_path=stats_path, seed=seed, should_render=False, hyperparams=hyperparams,
        env_kwargs=env_kwargs,
    )  # fmt: skip
    model = REINFORCE.load(run_dir / f"{name}.zip", env=env)
    mean_reward, std_reward = evaluate_policy(model, env, n_eval_episodes=n_episodes, deterministic=True)
    return float(mean_reward), float(std_reward)  # type: ignore[arg-type]  # not return_episode_rewards: floats


def train(args: TrainArgs) -> tuple[float, float]:
    """
    :param args: The parsed flags
    :return: Mean and std of the deterministic evaluation of the saved model
    """
    import tempfile

    import torch as th
    import yaml

    from sb3_reinforce.zoo import ALGO, ZooConfigError, check_hyperparams, default_config, experiment_manager, find_entry

    th.set_num_threads(args.torch_threads)
    try:
        check_env_id(args.env, args.gym_packages)
        env_kwargs = parse_env_kwargs(args.env_kwargs)
    except ValueError as error:
        raise SystemExit(f"sb3-reinforce train: error: {error}") from error
    config = args.config or str(default_config())
    try:
        found = find_entry(ALGO, args.env, config=config)
    except ValueError as error:  # ZooConfigError too
        raise SystemExit(f"sb3-reinforce train: error: {error}") from error
    overrides = _overrides(args)
    if found is None or found[2] == "default":  # no tuned entry: the class defaults, not an untuned fallback
        print(f"No entry for {args.env} in {config}: REINFORCE's class defaults apply ({NO_ENTRY})")
        entry, key = dict(NO_ENTRY), args.env
        config = str(Path(tempfile.mkdtemp(prefix="sb3-reinforce-")) / "reinforce.yml")
        Path(config).write_text(yaml.safe_dump({args.env: entry}))
    else:
        entry, _, key = found
        print(f"Using the entry {key!r} of {config}" + (f", with {overrides}" if overrides else ""))
    try:
        check_hyperparams({**entry, **overrides}, f"{config}, entry {key!r} with the flags")
    except ZooConfigError as error:
        raise SystemExit(f"sb3-reinforce train: error: {error}") from error

    exp = experiment_manager(
        ALGO,
        args.env,
        args.seed,
        config=config,
        log_folder=args.log_folder,
        n_timesteps=args.total_timesteps or 0,  # 0: the entry's n_timesteps
        hyperparams=overrides,
        env_kwargs=env_kwargs,
        args=argparse.Namespace(gym_packages=args.gym_packages),  # saved in args.yml with the run
        verbose=args.verbose,
        show_progress=args.progress_bar,
    )
    setup = exp.setup_experiment()
    assert setup is not None
    model, _ = setup
    start = time.perf_counter()
    exp.learn(model)
    train_seconds = time.perf_counter() - start
    exp.save_trained_model(model)

    # Evaluate what was saved, as a user who loads it will: the same numbers, from the same files
    mean_reward, std_reward = evaluate_run(exp.save_path, args.env, args.eval_episodes, seed=args.seed + 1_000_000)
    print(
        f"REINFORCE on {args.env}: {model.num_timesteps} steps in {train_seconds:.1f} s "
        f"({model.num_timesteps / train_seconds:.0f} steps/s), {model._n_updates} updates\n"
        f"deterministic eval over {args.eval_episodes} episodes: {mean_reward:.1f} +/- {std_reward:.1f}\n"
        f"saved to {exp.save_path} (load it with: sb3-reinforce-zoo enjoy --env {args.env} -f {args.log_folder}"
        + "".join(f" --gym-packages {module}" for module in args.gym_packages)
        + ")"
    )
    return mean_reward, std_reward


# Each subcommand: its flags, what runs it, and the extra it needs (sb3_reinforce.extras)
COMMANDS: dict[str, tuple[type, Any, str]] = {
    "train": (TrainArgs, train, "zoo"),
    "compare": (CompareArgs, run_compare, "compare"),
    "variance": (VarianceArgs, run_variance, "compare"),
}


def main(argv: list[str] | None = None) -> None:
    """
    The ``sb3-reinforce`` command.

    :param argv: The subcommand and its flags (default: ``sys.argv[1:]``)
    """
    args = tyro.extras.subcommand_cli_from_dict(
        {name: args_type for name, (args_type, _, _) in COMMANDS.items()},
        args=argv,
        description="REINFORCE for Stable-Baselines3.",
        config=(tyro.conf.OmitArgPrefixes,),
    )
    for name, (args_type, run, extra) in COMMANDS.items():
        if isinstance(args, args_type):
            try:
                require_extra(extra, f"sb3-reinforce {name}")
            except MissingExtraError as error:
                raise SystemExit(str(error)) from None
            run(args)


def zoo_main(argv: list[str] | None = None) -> None:
    """
    The ``sb3-reinforce-zoo`` command (:func:`sb3_reinforce.zoo.cli.main`), which stops in one line when the zoo
    extra is missing: this module imports without it.

    :param argv: The rl_zoo3 command and its arguments (default: ``sys.argv[1:]``)
    """
    command = list(sys.argv[1:] if argv is None else argv)[:1]
    try:
        require_extra("zoo", " ".join(["sb3-reinforce-zoo", *command]))
    except MissingExtraError as error:
        raise SystemExit(str(error)) from None
    from sb3_reinforce.zoo.cli import main as zoo_cli_main

    zoo_cli_main(argv)


if __name__ == "__main__":
    main()
