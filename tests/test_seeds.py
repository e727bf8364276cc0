"""The seed protocol of the benchmarks (benchmarks/seeds.py): tuning and reporting never share a seed."""

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
import report  # noqa: E402
from seeds import check_seeds, report_seeds  # noqa: E402


def test_trial_seeds_are_0_to_99():
    assert check_seeds("trial", [0, 1, 99]) == [0, 1, 99]
    for bad in (100, 999, 1000, -1):
        with pytest.raises(ValueError, match=rf"trial seeds out of range: \[{bad}\]"):
            check_seeds("trial", [0, bad])


def test_report_seeds_are_1000_and_up():
    assert check_seeds("report", [1000, 1234]) == [1000, 1234]
    assert report_seeds(3) == [1000, 1001, 1002]
    for bad in (0, 99, 100, 999):
        with pytest.raises(ValueError, match=rf"report seeds out of range: \[{bad}\]"):
            check_seeds("report", [bad, 1000])
    with pytest.raises(ValueError, match="purpose"):
        check_seeds("tune", [0])
    with pytest.raises(ValueError, match="no seeds"):
        check_seeds("report", [])


@pytest.mark.slow  # a Python process per case
@pytest.mark.parametrize(
    ("purpose", "seeds", "status"), [("trial", ["0", "5"], 0), ("trial", ["1000"], 2), ("report", ["7"], 2)]
)
def test_shell_check_exit_status(purpose, seeds, status):
    """trials.sh calls the module as a script: a bad seed stops it with status 2 and a message"""
    proc = subprocess.run([sys.executable, str(BENCHMARKS / "seeds.py"), purpose, *seeds], capture_output=True, text=True)
    assert proc.returncode == status
    assert ("out of range" in proc.stderr) == (status != 0)


def test_every_published_report_uses_report_seeds():
    """10 report seeds for classic control, at least 5 elsewhere, and every algo of a comparison on the same seeds"""
    classic = {"CartPole-v1", "Acrobot-v1", "Pendulum-v1", "MountainCar-v0", "MountainCarContinuous-v0"}
    classic |= {env.replace("-v", "NoVel-v") for env in classic}  # the velocity-masked ones (docs/recurrent.md)
    names = [r.name for r in report.REPORTS]
    assert len(names) == len(set(names))
    for entry in report.REPORTS:
        command = entry.command(workers=1)
        seeds = [int(s) for s in command[command.index("--seeds") + 1 : command.index("--seeds") + 1 + len(entry.seeds)]]
        assert seeds == check_seeds("report", entry.seeds)
        assert len(seeds) >= (10 if entry.env in classic else 5), entry.name
        assert command.count("--seeds") == 1  # one seed list shared by every algo of the comparison
