"""
rl_zoo3 glue: run the RL Zoo's own commands (``train``, ``enjoy``, ``-optimize``, ``record_video``, the plot
scripts, ...) with ``reinforce`` registered, and build "a model from a zoo entry" for every tool of this package.
Needs the ``zoo`` extra (``pip install 'sb3-reinforce[zoo]'``). See docs/zoo.md.

One module per concern:

- :mod:`~sb3_reinforce.zoo.registration`: ``reinforce`` in rl_zoo3's algorithm registry, and the hyperparameter
  sampler and converter of ``-optimize`` and ``--trial-id``;
- :mod:`~sb3_reinforce.zoo.entries`: the packaged config, the checks of an entry, and a model (or its envs) from a
  zoo entry (:func:`make_model`, :func:`make_env`, :func:`experiment_manager`, :func:`zoo_entry`);
- :mod:`~sb3_reinforce.zoo.cli`: the ``sb3-reinforce-zoo`` command;
- :mod:`~sb3_reinforce.zoo.storage`: the optuna storage of a study that several workers share (a journal file, or a
  PostgreSQL server with a heartbeat: docs/scale.md);
- :mod:`~sb3_reinforce.zoo.adapter`: what relies on rl_zoo3 2.9.x beyond its public API, with the version check.

What is rl_zoo3's stays rl_zoo3's: its commands parse their own flags, its ExperimentManager reads and parses the
entries and builds the envs, callbacks and models. REINFORCE joins its registries at run time, and
:class:`ZooExperimentManager` (a subclass) changes the config, the VecEnvs and the checks of REINFORCE runs only.
"""

from sb3_reinforce.extras import require_extra

require_extra("zoo", "sb3_reinforce.zoo")

from sb3_reinforce.zoo.adapter import RLZooVersionError  # noqa: E402
from sb3_reinforce.zoo.cli import main  # noqa: E402
from sb3_reinforce.zoo.entries import (  # noqa: E402
    ZooConfigError,
    ZooExperimentManager,
    check_hyperparams,
    default_config,
    experiment_manager,
    find_entry,
    make_env,
    make_model,
    zoo_entry,
)
from sb3_reinforce.zoo.registration import ALGO, convert_reinforce_params, register, sample_reinforce_params  # noqa: E402
from sb3_reinforce.zoo.storage import open_storage  # noqa: E402

__all__ = [
    "ALGO",
    "RLZooVersionError",
    "ZooConfigError",
    "ZooExperimentManager",
    "check_hyperparams",
    "convert_reinforce_params",
    "default_config",
    "experiment_manager",
    "find_entry",
    "main",
    "make_env",
    "make_model",
    "open_storage",
    "register",
    "sample_reinforce_params",
    "zoo_entry",
]
