"""
``reinforce`` in rl_zoo3's registries: the algorithm class, and the hyperparameter sampler and converter of
``-optimize`` and ``--trial-id``.
"""

from typing import Any

import optuna
from torch import nn

from sb3_reinforce.reinforce import REINFORCE
from sb3_reinforce.zoo.adapter import check_version

ALGO = "reinforce"
"""REINFORCE's name in rl_zoo3 (``--algo reinforce``)"""

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


def register() -> None:
    """
    Register REINFORCE with rl_zoo3 under the name ``reinforce`` (idempotent).

    - ``rl_zoo3.utils.ALGOS``: ``--algo`` choices (computed when train()/enjoy() build their parser, so after this),
      the class ExperimentManager constructs and enjoy loads;
    - ``rl_zoo3.hyperparams_opt.HYPERPARAMS_SAMPLER`` / ``HYPERPARAMS_CONVERTER``: ``-optimize`` and ``--trial-id``.

    Every other rl_zoo3 module imports these dict objects (``from rl_zoo3.utils import ALGOS``), so one insertion
    reaches them all.

    :raise RLZooVersionError: Unless rl_zoo3 2.9.x is installed
    """
    check_version()
    import rl_zoo3.hyperparams_opt
    import rl_zoo3.utils

    rl_zoo3.utils.ALGOS[ALGO] = REINFORCE
    rl_zoo3.hyperparams_opt.HYPERPARAMS_SAMPLER[ALGO] = sample_reinforce_params
    rl_zoo3.hyperparams_opt.HYPERPARAMS_CONVERTER[ALGO] = convert_reinforce_params
