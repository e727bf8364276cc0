"""
benchmarks/defaults_suite.py, the class defaults against PPO's and A2C's: its seed rules, its KEY=VALUE arguments,
and one short run of each algo as its worker process does it.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import defaults_suite


def test_reinforce_kwargs_are_python_literals_or_bare_words():
    assert defaults_suite.parse_kwargs(["learning_rate=1e-3", "baseline=value", "n_episodes=16", "ent_coef=0.01"]) == {
        "learning_rate": 1e-3,
        "baseline": "value",
        "n_episodes": 16,
        "ent_coef": 0.01,
    }
    with pytest.raises(ValueError, match="--reinforce-kwargs takes KEY=VALUE, got 'baseline'"):
        defaults_suite.parse_kwargs(["baseline"])


@pytest.mark.parametrize(
    "args, match",
    [
        (dict(seeds=[1000]), r"trial seeds out of range: \[1000\]"),
        (dict(seeds=[0], report=True), r"report seeds out of range: \[0\]"),
        (dict(seeds=[1000], report=True, reinforce_kwargs=["baseline=value"]), "--report publishes the class defaults"),
        (dict(seeds=[0], envs=["Pendulum-v1"]), r"--envs must be in the suite .*, got \['Pendulum-v1'\]"),
    ],
)
def test_bad_arguments_fail_before_any_run(args, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        defaults_suite.main(defaults_suite.Args(out_dir=str(tmp_path), **args))
    assert not any(tmp_path.iterdir())  # nothing was written


@pytest.mark.parametrize("report, seed, directory", [(True, 1000, "report"), (False, 0, "trials")])
def test_report_and_trial_runs_land_in_separate_directories(report, seed, directory, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    specs = []

    def fake_worker(command, capture_output, text):  # what the worker process prints: its result as one JSON line
        specs.append(json.loads(command[-1]))
        result = {**specs[-1], "final_eval": 1.0, "train_seconds": 2.0}
        return subprocess.CompletedProcess(command, 0, stdout=json.dumps(result) + "\n", stderr="")

    monkeypatch.setattr(defaults_suite.subprocess, "run", fake_worker)
    defaults_suite.main(defaults_suite.Args(envs=["CartPole-v1"], algos=["reinforce", "a2c"], seeds=[seed], report=report))
    written = sorted(str(path) for path in tmp_path.rglob("*.json"))
    assert written == [
        str(tmp_path / f"docs/results/{directory}/defaults_suite/CartPole-v1/{name}_seed{seed}.json")
        for name in ("a2c", "reinforce_defaults")
    ]
    assert [(spec["algo"], spec["budget"]) for spec in specs] == [("reinforce", 100_000), ("a2c", 100_000)]
    defaults_suite.main(defaults_suite.Args(envs=["CartPole-v1"], algos=["reinforce", "a2c"], seeds=[seed], report=report))
    assert len(specs) == 2  # a run whose file exists is not run again


# PPO's default rollout (2048 steps per env) is longer than a test's budget; A2C covers the SB3 side of the worker
@pytest.mark.parametrize("algo", ["reinforce", "a2c"])
def test_one_run_evaluates_on_its_schedule_and_counts_training_time_only(algo):
    spec = dict(algo=algo, setting=algo, env="CartPole-v1", seed=3, budget=1024, n_envs=2, n_evals=2, final_episodes=2,
                reinforce_kwargs={"n_episodes": 2} if algo == "reinforce" else {})  # fmt: skip
    result = defaults_suite.train_one(spec)
    json.dumps(result)  # what the worker prints must be JSON
    steps = [step for step, _, _ in result["evals"]]
    # the initial policy, each budget / n_evals steps as training passes them, and the final evaluation
    assert steps[0] == 0 and steps[-1] == result["num_timesteps"] >= 1024
    assert len(steps) == 1 + 2 + 1 and steps == sorted(steps)
    assert result["final_eval"] == result["evals"][-1][2] > 0
    seconds = [s for _, s, _ in result["evals"]]
    assert seconds == sorted(seconds) and result["train_seconds"] == pytest.approx(seconds[-1], abs=1e-3)
