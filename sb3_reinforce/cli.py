"""
The ``sb3-reinforce`` command line. Each subcommand reads its flags, and their ``--help`` text, from a dataclass.

    sb3-reinforce train --env CartPole-v1 --total-timesteps 100000
"""

import inspect
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import tyro

from sb3_reinforce.compare import CompareArgs, run_compare
from sb3_reinforce.reinforce import REINFORCE
from sb3_reinforce.variance import VarianceArgs, run_variance
from sb3_reinforce.vec_env import SubsetDummyVecEnv

_DEFAULTS = {name: p.default for name, p in inspect.signature(REINFORCE.__init__).parameters.items()}


def _default(name: str) -> Any:
    """REINFORCE's own default, so the CLI never drifts from the class."""
    return field(default=_DEFAULTS[name])


@dataclass
class AlgorithmArgs:
    """REINFORCE's hyperparameters (see the REINFORCE docstring)."""

    learning_rate: float = _default("learning_rate")
    """Adam learning rate"""
    n_episodes: int = _default("n_episodes")
    """Complete episodes per update (the N of the estimator)"""
    gamma: float = _default("gamma")
    """Discount factor, in [0, 1]"""
    return_type: Literal["total", "reward_to_go"] = _default("return_type")
    """Weight of log pi(a_t|s_t): the whole return R(tau) or the reward-to-go G_t"""
    baseline: Literal["none", "mean", "leave_one_out", "value"] = _default("baseline")
    """What is subtracted from the return"""
    normalize_advantage: bool = _default("normalize_advantage")
    """Standardize the advantages over the batch"""
    discount_steps: bool = _default("discount_steps")
    """Weight step t by gamma^t (Sutton & Barto 13.3; reward_to_go only)"""
    ent_coef: float = _default("ent_coef")
    """Entropy bonus coefficient"""
    critic_learning_rate: float = _default("critic_learning_rate")
    """Learning rate of the critic's own Adam (value baseline only)"""
    n_critic_updates: int = _default("n_critic_updates")
    """Passes of the critic's regression over each batch (value baseline only)"""
    critic_batch_size: int = _default("critic_batch_size")
    """Minibatch size of the critic's regression (value baseline only)"""
    max_grad_norm: float = _default("max_grad_norm")
    """Gradient clipping norm"""
    net_arch: list[int] = field(default_factory=lambda: [64, 64])
    """Hidden layer sizes of the policy (and value) network"""


@dataclass
class TrainArgs:
    """Train REINFORCE on a Gymnasium env, evaluate it deterministically, and save it."""

    env: str = "CartPole-v1"
    """Gymnasium env id"""
    total_timesteps: int = 100_000
    """Env steps to train for (the last batch may run past it)"""
    n_envs: int = 8
    """Parallel envs (SubsetDummyVecEnv: only the envs a batch needs are stepped)"""
    seed: int = 0
    """Random seed for the envs, the policy and the sampling"""
    eval_episodes: int = 100
    """Episodes of the deterministic evaluation after training"""
    save_path: str | None = None
    """Where to save the model (.zip); default: models/reinforce-<env>.zip"""
    torch_threads: int = 1
    """torch.set_num_threads; 1 is fastest for small MLPs on CPU"""
    progress_bar: bool = True
    """Show a progress bar while training"""
    verbose: int = 0
    """SB3 verbosity (1 prints the training logs)"""
    algo: AlgorithmArgs = field(default_factory=AlgorithmArgs)


def train(args: TrainArgs) -> tuple[float, float]:
    """
    :param args: The parsed flags
    :return: Mean and std of the deterministic evaluation
    """
    import torch as th
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.evaluation import evaluate_policy

    th.set_num_threads(args.torch_threads)
    hyperparams = asdict(args.algo)
    net_arch = hyperparams.pop("net_arch")
    env = make_vec_env(args.env, n_envs=args.n_envs, seed=args.seed, vec_env_cls=SubsetDummyVecEnv)
    model = REINFORCE(
        "MlpPolicy", env, policy_kwargs=dict(net_arch=net_arch), seed=args.seed, verbose=args.verbose, **hyperparams
    )
    start = time.perf_counter()
    model.learn(args.total_timesteps, progress_bar=args.progress_bar)
    train_seconds = time.perf_counter() - start

    eval_env = make_vec_env(args.env, n_envs=1, seed=args.seed + 1_000_000)
    mean_reward, std_reward = evaluate_policy(model, eval_env, n_eval_episodes=args.eval_episodes, deterministic=True)
    save_path = Path(args.save_path or f"models/reinforce-{args.env}.zip")
    save_path.parent.mkdir(parents=True, exist_ok=True)
    model.save(save_path)
    print(
        f"REINFORCE on {args.env}: {model.num_timesteps} steps in {train_seconds:.1f} s "
        f"({model.num_timesteps / train_seconds:.0f} steps/s), {model._n_updates} updates\n"
        f"deterministic eval over {args.eval_episodes} episodes: {mean_reward:.1f} +/- {std_reward:.1f}\n"
        f"saved to {save_path}"
    )
    return float(mean_reward), float(std_reward)  # type: ignore[arg-type]  # not return_episode_rewards: floats


COMMANDS: dict[str, tuple[type, Any]] = {
    "train": (TrainArgs, train),
    "compare": (CompareArgs, run_compare),
    "variance": (VarianceArgs, run_variance),
}


def main(argv: list[str] | None = None) -> None:
    args = tyro.extras.subcommand_cli_from_dict(
        {name: args_type for name, (args_type, _) in COMMANDS.items()},
        args=argv,
        description="REINFORCE for Stable-Baselines3.",
        config=(tyro.conf.OmitArgPrefixes,),
    )
    for args_type, run in COMMANDS.values():
        if isinstance(args, args_type):
            run(args)


if __name__ == "__main__":
    main()
