"""
``sb3-reinforce-zoo`` (or ``python -m sb3_reinforce.zoo``): rl_zoo3's own commands with ``reinforce`` registered::

    sb3-reinforce-zoo train --env CartPole-v1 -f logs/
    sb3-reinforce-zoo enjoy --env CartPole-v1 -f logs/
    sb3-reinforce-zoo train --env CartPole-v1 -optimize --n-trials 50 --storage logs/study.log --study-name s

Every flag is rl_zoo3's, parsed by rl_zoo3 (``sb3-reinforce-zoo train --help``), but two of ``train``'s:
``--heartbeat-interval`` and ``--grace-period``, the heartbeat of the trials in a database ``--storage``
(:data:`TRAIN_FLAGS`, docs/scale.md). ``--algo`` defaults to ``reinforce``; ``train`` builds a
:class:`~sb3_reinforce.zoo.ZooExperimentManager` (the packaged config, the Subset VecEnvs and the entry's checks, for
REINFORCE runs only; the ``--storage`` checks and heartbeat for every algo).
"""

import argparse
import functools
import runpy
import sys
from collections.abc import Callable

from sb3_reinforce.extras import MissingExtraError, require_extra
from sb3_reinforce.zoo.adapter import RLZooVersionError, record_video_here, train_with
from sb3_reinforce.zoo.entries import ZooConfigError, ZooExperimentManager
from sb3_reinforce.zoo.registration import ALGO, register
from sb3_reinforce.zoo.storage import HEARTBEAT_INTERVAL


def _with_algo(args: list[str]) -> list[str]:
    # argparse keeps the last value of a flag: an --algo of the user's (in any spelling) comes later and wins
    return ["--algo", ALGO, *args]


def _as_is(args: list[str]) -> list[str]:
    return args


def _script(module: str) -> Callable[[], None]:
    """An rl_zoo3 tool that is a script (its code under ``if __name__ == "__main__"``), run as ``python -m`` would."""

    def run() -> None:
        runpy.run_module(module, run_name="__main__", alter_sys=True)

    return run


# train's flags that are ours, not rl_zoo3's: read (and removed) before rl_zoo3 parses the rest
TRAIN_FLAGS = argparse.ArgumentParser(prog="sb3-reinforce-zoo train", add_help=False, allow_abbrev=False)
TRAIN_FLAGS.add_argument(
    "--heartbeat-interval",
    type=int,
    default=HEARTBEAT_INTERVAL,
    metavar="SECONDS",
    help="with a database --storage (postgresql://...): each running trial records a heartbeat this often, and a "
    "trial whose worker died is marked FAIL by the next worker to start a trial; 0: no heartbeat "
    f"(default: {HEARTBEAT_INTERVAL})",
)
TRAIN_FLAGS.add_argument(
    "--grace-period",
    type=int,
    default=None,
    metavar="SECONDS",
    help="seconds after a trial's last heartbeat before it counts as dead (default: two heartbeat intervals)",
)


def _train() -> None:
    from rl_zoo3.train import train

    ours, sys.argv[1:] = TRAIN_FLAGS.parse_known_args(sys.argv[1:])
    if "-h" in sys.argv or "--help" in sys.argv:
        print(TRAIN_FLAGS.format_help().replace("usage: ", "sb3-reinforce's own flags, then rl_zoo3's:\n", 1))
    manager = functools.partial(
        ZooExperimentManager,
        heartbeat_interval=ours.heartbeat_interval or None,  # 0: none
        grace_period=ours.grace_period,
    )
    with train_with(manager):
        train()


def _enjoy() -> None:
    from rl_zoo3.enjoy import enjoy

    enjoy()


def _record_training() -> None:
    with record_video_here():
        _script("rl_zoo3.record_training")()


def _plot(name: str) -> Callable[[], None]:
    def run() -> None:
        import rl_zoo3.plots

        getattr(rl_zoo3.plots, name)()

    return run


COMMANDS: dict[str, tuple[Callable[[list[str]], list[str]], Callable[[], None]]] = {
    "train": (_with_algo, _train),
    "enjoy": (_with_algo, _enjoy),
    "record_video": (_with_algo, _script("rl_zoo3.record_video")),
    "record_training": (_with_algo, _record_training),
    "plot_train": (_as_is, _plot("plot_train")),
    "all_plots": (_as_is, _plot("all_plots")),
    "plot_from_file": (_as_is, _plot("plot_from_file")),
    "benchmark": (_as_is, _script("rl_zoo3.benchmark")),
    # Hugging Face Hub: not run on the project's machines (no network); its parser accepts --algo reinforce.
    # rl_zoo3 2.9.2's push_to_hub does not import with the huggingface_sb3 it installs (generate_metadata)
    "load_from_hub": (_with_algo, _script("rl_zoo3.load_from_hub")),
}

USAGE = (
    "usage: sb3-reinforce-zoo COMMAND [rl_zoo3 arguments ...]\n"
    "  train: rl_zoo3's train (--algo reinforce and -conf zoo_configs/reinforce.yml by default; and\n"
    "         --heartbeat-interval/--grace-period for a database --storage)\n"
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
    command, args = argv[0], argv[1:]
    if command not in COMMANDS:
        raise SystemExit(f"{USAGE}\nerror: unknown command {command!r}")
    prepare, run = COMMANDS[command]

    # rl_zoo3's commands read sys.argv
    saved_argv = sys.argv
    sys.argv = [f"sb3-reinforce-zoo {command}", *prepare(args)]
    try:
        require_extra("zoo", f"sb3-reinforce-zoo {command}")
        register()
        run()
    except MissingExtraError as error:
        raise SystemExit(str(error)) from error
    except (ZooConfigError, RLZooVersionError) as error:
        raise SystemExit(f"sb3-reinforce-zoo {command}: error: {error}") from error
    finally:
        sys.argv = saved_argv
