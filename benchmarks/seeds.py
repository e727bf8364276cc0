"""
The seed protocol of every benchmark: tuning and reporting never share a seed.

- Trial seeds, 0-99: tuning, sweeps and trials (everything that chooses a setting).
- Reserved seeds, 100-999: independent checks by someone else. No script of ours uses them.
- Report seeds, 1000 and up: the published tables. No trial ever uses them, so a published number was not chosen
  on the seeds it is reported on.

A trial command calls :func:`check_seeds` with ``"trial"``, a report command with ``"report"``; both stop before
any training with a message that names the bad seeds. From a shell script::

    python benchmarks/seeds.py trial 0 1 2      # exit status 2 and a message if a seed is out of range
"""

import sys
from collections.abc import Iterable

from sb3_reinforce.report import REPORT_SEEDS_START as REPORT_START  # the report tables refuse lower seeds too
from sb3_reinforce.report import TRIAL_SEEDS_END  # ... and the trial tables higher ones

TRIAL_SEEDS = range(0, TRIAL_SEEDS_END)
RESERVED_SEEDS = range(100, REPORT_START)
PURPOSES = ("trial", "report")


def check_seeds(purpose: str, seeds: Iterable[int]) -> list[int]:
    """
    :param purpose: ``"trial"`` (seeds 0-99) or ``"report"`` (seeds 1000 and up)
    :param seeds: The seeds a command is about to run
    :return: The seeds, as a list, if every one is in the purpose's range
    :raises ValueError: naming the seeds outside it
    """
    if purpose not in PURPOSES:
        raise ValueError(f"purpose must be one of {PURPOSES}, got {purpose!r}")
    seeds = [int(seed) for seed in seeds]
    if not seeds:
        raise ValueError("no seeds given")
    if purpose == "trial":
        bad = [seed for seed in seeds if seed not in TRIAL_SEEDS]
        rule = "trials and tuning use seeds 0-99; 100-999 are reserved for independent checks, 1000+ for reports"
    else:
        bad = [seed for seed in seeds if seed < REPORT_START]
        rule = "published tables use report seeds 1000 and up, which no trial uses (0-99 tune, 100-999 are reserved)"
    if bad:
        raise ValueError(f"{purpose} seeds out of range: {bad} ({rule})")
    return seeds


def report_seeds(n: int, start: int = REPORT_START) -> list[int]:
    """:return: ``n`` consecutive report seeds from ``start`` (checked)"""
    return check_seeds("report", range(start, start + n))


if __name__ == "__main__":
    try:
        check_seeds(sys.argv[1] if len(sys.argv) > 1 else "", sys.argv[2:])
    except ValueError as error:
        print(f"{sys.argv[0]}: {error}", file=sys.stderr)
        sys.exit(2)
