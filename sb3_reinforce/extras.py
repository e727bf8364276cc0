"""
The optional extras of sb3-reinforce, and the one-line error of a command whose extra is missing.

``pip install sb3-reinforce`` installs the algorithm alone (torch, gymnasium, SB3, numpy, and tyro for the command
line). The tools need an extra (see ``[project.optional-dependencies]`` in pyproject.toml):

- ``zoo``: ``sb3-reinforce train``, ``sb3-reinforce-zoo`` and :mod:`sb3_reinforce.zoo` (rl_zoo3 and what it needs);
- ``distributed``: ``sb3-reinforce-zoo train --storage postgresql://...`` (the zoo, and psycopg, the PostgreSQL driver
  of a study that workers on several machines share: docs/scale.md);
- ``compare``: ``sb3-reinforce compare`` and ``sb3-reinforce variance`` (the zoo, and matplotlib for the plots);
- ``recurrent``: the LSTM policies (``"MlpLstmPolicy"``, ...: sb3-contrib's, :mod:`sb3_reinforce.recurrent`).

This module imports nothing: a command checks its extra before it imports the tool, and a user without the extra
reads what to install instead of a traceback.
"""

import importlib.util

# The modules each extra makes importable, by import name. The Box2D and MuJoCo envs, moviepy and seaborn are in
# [zoo] too but not listed: only the envs or rl_zoo3 tools that use them need them, and they say so themselves.
EXTRA_MODULES: dict[str, tuple[str, ...]] = {
    "zoo": ("rl_zoo3", "optuna", "sb3_contrib", "pandas", "requests", "yaml", "tqdm", "rich"),
    "compare": ("rl_zoo3", "optuna", "sb3_contrib", "pandas", "requests", "yaml", "tqdm", "rich", "matplotlib"),
    "distributed": ("rl_zoo3", "optuna", "sb3_contrib", "pandas", "requests", "yaml", "tqdm", "rich", "psycopg"),
    "recurrent": ("sb3_contrib",),
}


class MissingExtraError(ImportError):
    """A command or module needs an extra of sb3-reinforce that is not installed."""


def missing_modules(extra: str) -> list[str]:
    """
    :param extra: A key of :data:`EXTRA_MODULES`
    :return: The modules of ``extra`` that cannot be imported (found without importing them)
    """
    if extra not in EXTRA_MODULES:
        raise ValueError(f"extra must be one of {sorted(EXTRA_MODULES)}, got {extra!r}")
    return [module for module in EXTRA_MODULES[extra] if importlib.util.find_spec(module) is None]


def require_extra(extra: str, needed_by: str) -> None:
    """
    :param extra: A key of :data:`EXTRA_MODULES`
    :param needed_by: What needs it, for the message (``"sb3-reinforce train"``)
    :raise MissingExtraError: In one line, naming the extra to install, if one of its modules is missing
    """
    missing = missing_modules(extra)
    if missing:
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise MissingExtraError(
            f"{needed_by} needs the {extra} extra ({missing[0]}{more} not installed): pip install 'sb3-reinforce[{extra}]'"
        )
