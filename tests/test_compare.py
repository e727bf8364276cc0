"""``sb3-reinforce compare`` (sb3_reinforce.compare): runs in worker processes, curves, summary, plot, failures, resumes,
shards, and its defaults."""

import csv
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import tyro
import yaml

from sb3_reinforce import REINFORCE
from sb3_reinforce.cli import COMMANDS, main
from sb3_reinforce.compare import (
    RUN_IDENTITY,
    CompareArgs,
    _finished_result,
    _launch,
    compare,
    machine,
    replacing,
    resolve_args,
    run_lock,
    shard_runs,
    summary_markdown,
    usable_cores,
)
from sb3_reinforce.report import CURVE_COLUMNS
from sb3_reinforce.zoo import ALGO, zoo_entry
from tests.helpers import assert_valid_png, package_env

pytest.importorskip("rl_zoo3")
pytest.importorskip("matplotlib")


N_TIMESTEPS, EVAL_FREQ, N_ENVS = 2000, 1000, 8  # every CartPole-v1 entry used here has n_envs: 8


def parse(argv: list[str]):
    """Parse a command line as ``sb3-reinforce`` does."""
    return tyro.extras.subcommand_cli_from_dict(
        {name: args_type for name, (args_type, *_) in COMMANDS.items()}, args=argv, config=(tyro.conf.OmitArgPrefixes,)
    )


def read_curves(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as file:
        reader = csv.DictReader(file)
        assert tuple(reader.fieldnames or ()) == CURVE_COLUMNS
        return list(reader)


# ---------------------------------------------------------------------------------------------------
# A comparison in worker processes
# ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_comparison(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("compare")
    main(
        [
            "compare", "--env", "CartPole-v1", "--algos", "reinforce", "ppo", "a2c", "--seeds", "0", "1",
            "--n-timesteps", str(N_TIMESTEPS), "--eval-freq", str(EVAL_FREQ), "--n-eval-episodes", "3",
            "--workers", "2", "--threshold", "30", "--out-dir", str(out_dir),
        ]
    )  # fmt: skip
    return out_dir / "CartPole-v1"


@pytest.mark.slow  # trains in worker processes
def test_curves_csv_has_an_evaluation_at_zero_every_eval_freq_steps_and_at_the_end(tiny_comparison):
    rows = read_curves(tiny_comparison / "curves.csv")
    runs = {(row["algo"], int(row["seed"])) for row in rows}
    assert runs == {(algo, seed) for algo in ("reinforce", "ppo", "a2c") for seed in (0, 1)}
    for algo, seed in runs:
        run = [row for row in rows if (row["algo"], int(row["seed"])) == (algo, seed)]
        steps = np.array([int(row["timesteps"]) for row in run])
        seconds = np.array([float(row["seconds"]) for row in run])
        means = np.array([float(row["eval_mean"]) for row in run])
        assert steps[0] == 0 and seconds[0] == 0.0
        assert steps[-1] >= N_TIMESTEPS  # the last one is at the end of training
        assert np.all(np.diff(steps) > 0) and np.all(np.diff(seconds) >= 0)
        # One evaluation as soon as each multiple of eval_freq is passed (steps come n_envs at a time)
        for k in range(1, steps[-1] // EVAL_FREQ + 1):
            assert np.sum((steps >= k * EVAL_FREQ) & (steps < k * EVAL_FREQ + N_ENVS)) == 1, (algo, seed, steps)
        assert len(run) <= 2 + steps[-1] // EVAL_FREQ
        assert np.all((means >= 1) & (means <= 500))  # CartPole-v1 returns


@pytest.mark.slow  # trains in worker processes
def test_summary_names_every_algo_and_the_command_that_reproduces_it(tiny_comparison):
    summary = (tiny_comparison / "summary.md").read_text()
    command = next(line.strip() for line in summary.splitlines() if line.strip().startswith("sb3-reinforce compare"))
    args = parse(shlex.split(command)[1:])
    assert isinstance(args, CompareArgs)
    assert (args.algos, args.seeds, args.n_timesteps, args.workers) == (["reinforce", "ppo", "a2c"], [0, 1], N_TIMESTEPS, 2)
    assert args.threshold == 30.0
    for algo in ("reinforce", "ppo", "a2c"):
        row = next(line for line in summary.splitlines() if line.startswith(f"| {algo} |"))
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert cells[1] == "2/2"
        assert "±" in cells[2] and "[" in cells[3]
        assert cells[4].endswith("/2)") and cells[5].endswith("/2)")  # steps and seconds to threshold, k/n seeds
        assert float(cells[6].replace(",", "")) > 0  # fps
    assert "zoo_configs/reinforce.yml" in summary and "rl_zoo3/hyperparams/ppo.yml" in summary
    assert "Failed runs" not in summary


@pytest.mark.slow  # trains in worker processes
def test_curves_png_is_a_valid_image(tiny_comparison):
    assert_valid_png(tiny_comparison / "curves.png")


@pytest.mark.slow  # trains in worker processes
def test_each_run_keeps_its_rl_zoo3_folder_and_model(tiny_comparison):
    run_dir = tiny_comparison / "runs" / "reinforce" / "CartPole-v1_1_seed0"
    model = REINFORCE.load(run_dir / "CartPole-v1.zip")
    assert model.num_timesteps >= N_TIMESTEPS
    assert "n_episodes" in (run_dir / "CartPole-v1" / "config.yml").read_text()
    assert (run_dir / "CartPole-v1" / "command.txt").read_text().startswith("sb3-reinforce compare")


@pytest.mark.slow  # trains in worker processes
def test_a_failed_run_is_reported_and_the_others_still_produce_output(tmp_path):
    # zoo_configs/reinforce.yml has no MountainCar-v0 entry; rl_zoo3's ppo.yml has one (with normalize: true)
    with pytest.raises(SystemExit, match="1 of 2 runs failed"):
        main(
            [
                "compare", "--env", "MountainCar-v0", "--algos", "reinforce", "ppo", "--seeds", "0",
                "--n-timesteps", "1000", "--eval-freq", "1000", "--n-eval-episodes", "1", "--out-dir", str(tmp_path),
            ]
        )  # fmt: skip
    out_dir = tmp_path / "MountainCar-v0"
    rows = read_curves(out_dir / "curves.csv")
    assert {row["algo"] for row in rows} == {"ppo"} and len(rows) >= 2
    summary = (out_dir / "summary.md").read_text()
    assert "## Failed runs" in summary
    assert "| reinforce | 0 | ValueError: reinforce has no hyperparameters for MountainCar-v0" in summary
    assert "| reinforce | 0/1 |" in summary and "| ppo | 1/1 |" in summary
    assert_valid_png(out_dir / "curves.png")
    # The VecNormalize statistics were kept with the model, as rl_zoo3 keeps them
    assert (out_dir / "runs" / "ppo" / "MountainCar-v0_1_seed0" / "MountainCar-v0" / "vecnormalize.pkl").is_file()


@pytest.mark.slow  # four comparisons
def test_an_interrupted_comparison_resumes_and_a_changed_entry_runs_again(tmp_path):
    config = tmp_path / "reinforce.yml"
    entry = {"n_timesteps": 1000, "policy": "MlpPolicy", "n_envs": 2, "n_episodes": 2}
    config.write_text(yaml.safe_dump({"CartPole-v1": entry}))
    argv = [
        "compare", "--env", "CartPole-v1", "--algos", "reinforce", "--seeds", "0", "--n-timesteps", "400",
        "--eval-freq", "200", "--n-eval-episodes", "1", "--out-dir", str(tmp_path / "out"), "--config", str(config),
    ]  # fmt: skip
    main(argv)
    result = tmp_path / "out" / "CartPole-v1" / "runs" / "reinforce_seed0.json"
    first, first_mtime = result.read_text(), result.stat().st_mtime_ns
    assert '"n_episodes": 2' in first  # the entry came from --config
    main(argv)
    assert result.stat().st_mtime_ns == first_mtime  # reused, not trained again
    config.write_text(yaml.safe_dump({"CartPole-v1": {**entry, "n_episodes": 4}}))
    main(argv)
    second_mtime = result.stat().st_mtime_ns
    assert second_mtime != first_mtime and '"n_episodes": 4' in result.read_text()
    main([*argv, "--no-resume"])
    assert result.stat().st_mtime_ns != second_mtime


# ---------------------------------------------------------------------------------------------------
# Equal time: --time-budget
# ---------------------------------------------------------------------------------------------------


TIME_BUDGET, STEP_CAP = 2.0, 1_000_000  # CartPole-v1 gets nowhere near the cap in 2 s


def time_budget_argv(out_dir: Path, *algos: str, budget: float = TIME_BUDGET) -> list[str]:
    return [
        "compare", "--env", "CartPole-v1", "--algos", *algos, "--seeds", "0", "--n-timesteps", str(STEP_CAP),
        "--time-budget", str(budget), "--eval-freq", "-1", "--n-eval-episodes", "1",
        "--workers", str(min(2, usable_cores())), "--out-dir", str(out_dir),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def time_budget_comparison(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("compare_time")
    main(time_budget_argv(out_dir, "reinforce", "ppo"))
    return out_dir


@pytest.mark.slow  # trains in worker processes
def test_time_budget_stops_every_run_at_the_first_update_after_the_time_is_spent(time_budget_comparison):
    ppo_n_steps = 32  # rl_zoo3's ppo.yml CartPole-v1: n_steps 32, n_envs 8
    out_dir = time_budget_comparison / "CartPole-v1"
    for algo in ("reinforce", "ppo"):
        run = json.loads((out_dir / "runs" / f"{algo}_seed0.json").read_text())
        assert (run["stopped_by"], run["time_budget"], run["spec"]["time_budget"]) == ("time", TIME_BUDGET, TIME_BUDGET)
        (before_steps, before_seconds), (spent_steps, spent_seconds) = run["rollout_end_before"], run["budget_spent_at"]
        # The first rollout to end with the clock at the budget is the last one trained on...
        assert before_seconds < TIME_BUDGET <= spent_seconds <= run["train_seconds"]
        # ...and the run stops one step (of every env) into the next rollout, before its update
        assert run["num_timesteps"] - spent_steps == N_ENVS
        assert run["num_timesteps"] < STEP_CAP
        if algo == "ppo":  # the overshoot is at most one rollout of n_steps per env, and that rollout's update
            assert spent_steps - before_steps == ppo_n_steps * N_ENVS
        # The final evaluation is of the last update's policy, its clock the run's training time
        assert run["curve"][-1][:2] == [run["num_timesteps"], run["train_seconds"]]
    summary = (out_dir / "summary.md").read_text()
    assert "2 s of training per run (at most 1,000,000 env steps)" in summary
    assert "2 of 2 run(s) stopped by time, 0 at the step cap" in summary
    assert "- reinforce: " in summary and "env steps (1 run(s) stopped by time, 0 at the step cap)" in summary
    command = next(line.strip() for line in summary.splitlines() if line.strip().startswith("sb3-reinforce compare"))
    assert parse(shlex.split(command)[1:]).time_budget == TIME_BUDGET
    assert {row["algo"] for row in read_curves(out_dir / "curves.csv")} == {"reinforce", "ppo"}
    assert_valid_png(out_dir / "curves.png")


@pytest.mark.slow  # trains in a worker process
def test_a_run_trained_under_another_time_budget_is_trained_again(time_budget_comparison, tmp_path):
    shutil.copytree(time_budget_comparison, tmp_path, dirs_exist_ok=True)
    runs = tmp_path / "CartPole-v1" / "runs"
    first = {algo: (runs / f"{algo}_seed0.json").stat().st_mtime_ns for algo in ("reinforce", "ppo")}
    main(time_budget_argv(tmp_path, "reinforce", "ppo"))
    assert {algo: (runs / f"{algo}_seed0.json").stat().st_mtime_ns for algo in first} == first  # the same budget: reused
    main(time_budget_argv(tmp_path, "reinforce", budget=1.5))
    assert (runs / "reinforce_seed0.json").stat().st_mtime_ns != first["reinforce"]
    assert json.loads((runs / "reinforce_seed0.json").read_text())["time_budget"] == 1.5


@pytest.mark.slow  # trains in a worker process
def test_a_run_that_reaches_the_step_cap_before_the_time_budget_ends_there(tmp_path):
    config = tmp_path / "reinforce.yml"
    config.write_text(
        yaml.safe_dump({"CartPole-v1": {"n_timesteps": 1000, "policy": "MlpPolicy", "n_envs": 2, "n_episodes": 2}})
    )
    main(
        [
            "compare", "--env", "CartPole-v1", "--algos", "reinforce", "--seeds", "0", "--n-timesteps", "400",
            "--time-budget", "600", "--eval-freq", "-1", "--n-eval-episodes", "1", "--out-dir", str(tmp_path / "out"),
            "--config", str(config),
        ]
    )  # fmt: skip
    run = json.loads((tmp_path / "out" / "CartPole-v1" / "runs" / "reinforce_seed0.json").read_text())
    assert (run["stopped_by"], run["budget_spent_at"]) == ("steps", None)
    assert 400 <= run["num_timesteps"] < 402 and run["train_seconds"] < 600  # REINFORCE steps at most its 2 envs at once
    summary = (tmp_path / "out" / "CartPole-v1" / "summary.md").read_text()
    assert "0 of 1 run(s) stopped by time, 1 at the step cap" in summary


def test_resume_reuses_a_result_only_under_the_same_time_budget(tmp_path):
    entry = {"n_timesteps": 1000, "policy": "MlpPolicy"}
    spec = {name: None for name in RUN_IDENTITY} | {"algo": ALGO, "seed": 0, "entry_value": entry}
    spec["result_path"] = str(tmp_path / "reinforce_seed0.json")

    def finished(**identity):
        result = {"algo": ALGO, "seed": 0, "spec": {name: spec[name] for name in RUN_IDENTITY} | identity}
        Path(spec["result_path"]).write_text(json.dumps(result | {"entry_value": entry}))

    finished(time_budget=2.0)
    assert _finished_result(spec | {"time_budget": 2.0}) is not None
    assert _finished_result(spec | {"time_budget": 3.0}) is None
    assert _finished_result(spec) is None  # equal steps: not a run stopped by time
    finished()
    result = json.loads(Path(spec["result_path"]).read_text())
    del result["spec"]["time_budget"]  # a result written before --time-budget existed
    Path(spec["result_path"]).write_text(json.dumps(result))
    assert _finished_result(spec) is not None
    assert _finished_result(spec | {"time_budget": 2.0}) is None


def test_summary_states_the_time_budget_and_the_steps_each_algo_reached(tmp_path):
    def run(algo, seed, steps, stopped_by):
        curve = [(0, 0.0, 10.0, 0.0), (steps, 2.2, 50.0, 0.0)]
        return {
            "algo": algo,
            "seed": seed,
            "curve": curve,
            "stopped_by": stopped_by,
            "config": str(tmp_path / "x.yml"),
            "entry": "e",
        }

    runs = [run("reinforce", 0, 9000, "time"), run("reinforce", 1, 5000, "time"), run("reinforce", 2, 6000, "steps")]
    runs.append(run("ppo", 0, 1288, "time"))
    args = CompareArgs(algos=["reinforce", "ppo", "a2c"], seeds=[0, 1, 2], n_timesteps=6000, time_budget=2.0, workers=2)
    summary = summary_markdown(args, runs, [])
    assert "2 s of training per run (at most 6,000 env steps), 3 seeds" in summary
    assert "3 of 4 run(s) stopped by time, 1 at the step cap" in summary
    assert "these ran 2 at a time, one per core" in summary
    assert "- reinforce: 6,000 env steps (2 run(s) stopped by time, 1 at the step cap)" in summary
    assert "- ppo: 1,288 env steps (1 run(s) stopped by time, 0 at the step cap)" in summary
    assert "- a2c: " not in summary  # no run
    assert "time budget" not in summary_markdown(replace(args, time_budget=None), runs, [])


# ---------------------------------------------------------------------------------------------------
# Shards: several processes fill one comparison
# ---------------------------------------------------------------------------------------------------


def test_shards_split_the_runs_once_each_and_every_algo_evenly():
    algos, seeds = ["reinforce", "ppo", "a2c"], list(range(10))
    runs = [(algo, seed) for seed in seeds for algo in algos]
    for count in (1, 2, 3, 4, 7, 30, 31):
        slices = [shard_runs(runs, algos, seeds, lambda run: run, f"{index}/{count}") for index in range(1, count + 1)]
        assert sorted(run for part in slices for run in part) == sorted(runs)  # each run in exactly one slice
        for part in slices:
            assert part == [run for run in runs if run in part]  # in the order given
            for algo in algos:  # every algo's seeds spread evenly over the slices
                assert sum(run[0] == algo for run in part) in (len(seeds) // count, -(-len(seeds) // count))


def test_replacing_shows_a_reader_the_old_file_or_the_new_one(tmp_path):
    path = tmp_path / "result.json"
    path.write_text("old")
    with replacing(path) as temporary:
        temporary.write_text("new")
        assert path.read_text() == "old" and temporary.parent == tmp_path
    assert path.read_text() == "new"
    with pytest.raises(RuntimeError), replacing(path) as temporary:
        temporary.write_text("half")
        raise RuntimeError("killed mid-write")
    assert path.read_text() == "new"
    assert [file.name for file in tmp_path.iterdir()] == ["result.json"]  # no temporary file left


def test_a_run_another_process_trains_is_waited_for_and_reused(tmp_path):
    entry = {"n_timesteps": 1000, "policy": "MlpPolicy"}
    spec = {name: None for name in RUN_IDENTITY} | {"algo": ALGO, "seed": 0, "entry_value": entry}
    spec["result_path"] = str(tmp_path / "reinforce_seed0.json")
    finished = {"algo": ALGO, "seed": 0, "spec": {name: spec[name] for name in RUN_IDENTITY}, "entry_value": entry}
    locked, waited = threading.Event(), 0.5

    def other_process():  # a second open file description conflicts as another process's would
        with run_lock(tmp_path / "reinforce_seed0.lock", "reinforce seed 0"):
            locked.set()
            time.sleep(waited)
            Path(spec["result_path"]).write_text(json.dumps(finished))

    other = threading.Thread(target=other_process)
    other.start()
    assert locked.wait(10)
    start = time.perf_counter()
    result, reused = _launch(spec)  # would train in a new process if it did not wait
    assert reused and result == finished
    assert time.perf_counter() - start > waited / 2
    other.join()


def compare_process(out_dir: Path, seeds: list[int], *more: str) -> subprocess.Popen:
    """``sb3-reinforce compare`` in a process of its own (and its own process group, for killpg)."""
    command = [
        sys.executable, "-m", "sb3_reinforce.cli", "compare", "--env", "CartPole-v1", "--algos", ALGO,
        "--seeds", *map(str, seeds), "--n-timesteps", "500", "--eval-freq", "-1", "--n-eval-episodes", "1",
        "--out-dir", str(out_dir), *more,
    ]  # fmt: skip
    return subprocess.Popen(
        command, env=package_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )


@pytest.mark.slow  # four runs in five processes
def test_shards_at_once_fill_one_comparison_and_a_killed_shard_retrains_only_its_unfinished_runs(tmp_path):
    seeds = [0, 1, 2]  # shard 1/2: seeds 0 and 2; shard 2/2: seed 1
    runs = tmp_path / "CartPole-v1" / "runs"
    shard_1, shard_2 = (compare_process(tmp_path, seeds, "--shard", f"{index}/2") for index in (1, 2))
    try:
        # Shard 1 is killed (with its run's process: a node lost, a job cancelled) once its first run has finished
        deadline = time.monotonic() + 240
        while not (runs / "reinforce_seed0.json").exists():
            assert shard_1.poll() is None and time.monotonic() < deadline, shard_1.communicate()[0][-3000:]
            time.sleep(0.2)
        os.killpg(shard_1.pid, signal.SIGKILL)
        shard_1.wait()
        output = shard_2.communicate(timeout=240)[0]
        assert shard_2.returncode == 0, output[-3000:]
        assert "shard 2/2: 1 run(s)" in output and "(1 trained, 0 reused, 0 failed)" in output
    finally:
        for process in (shard_1, shard_2):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    assert not (runs / "reinforce_seed2.json").exists()
    assert not (tmp_path / "CartPole-v1" / "summary.md").exists()  # a shard writes its runs, not the tables
    first = {seed: (runs / f"reinforce_seed{seed}.json").stat().st_mtime_ns for seed in (0, 1)}

    # The killed shard again: seed 0 is reused, seed 2 trained
    rerun = compare_process(tmp_path, seeds, "--shard", "1/2")
    output = rerun.communicate(timeout=240)[0]
    assert rerun.returncode == 0, output[-3000:]
    assert "(1 trained, 1 reused, 0 failed)" in output
    # Without --shard: every run reused, nothing trained, the tables and the plot written
    main([
        "compare", "--env", "CartPole-v1", "--algos", ALGO, "--seeds", "0", "1", "2", "--n-timesteps", "500",
        "--eval-freq", "-1", "--n-eval-episodes", "1", "--out-dir", str(tmp_path),
    ])  # fmt: skip
    assert {seed: (runs / f"reinforce_seed{seed}.json").stat().st_mtime_ns for seed in (0, 1)} == first
    assert {(row["algo"], row["seed"]) for row in read_curves(tmp_path / "CartPole-v1" / "curves.csv")} == {
        (ALGO, str(seed)) for seed in seeds
    }
    summary = (tmp_path / "CartPole-v1" / "summary.md").read_text()
    assert "| reinforce | 3/3 |" in summary and "The runs come from 2 commands" in summary
    assert_valid_png(tmp_path / "CartPole-v1" / "curves.png")
    assert not list(tmp_path.rglob("*.tmp*"))  # every write was renamed into place


# ---------------------------------------------------------------------------------------------------
# Arguments, defaults and the summary
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--env", "NoSuchEnv-v0"], "unknown env 'NoSuchEnv-v0'"),
        (["--algos", "reinforce", "ppq"], r"unknown algo\(s\) \['ppq'\]"),
        (["--seeds", "0", "0"], "must not repeat"),
        (["--workers", "0"], "--workers must be >= 1"),
        (["--shard", "3/2"], r"--shard must be I/N with 1 <= I <= N \(e.g. 2/4, the second of four slices\), got '3/2'"),
        (["--shard", "0/2"], "got '0/2'"),
        (["--shard", "2"], "got '2'"),
        (["--shard", "one/2"], "got 'one/2'"),
        (["--time-budget", "0"], r"--time-budget must be a finite number of seconds > 0, got 0.0"),
        (["--time-budget", "-5"], "got -5.0"),
        (["--time-budget", "nan"], "got nan"),
        (["--time-budget", "inf"], "got inf"),
        (["--algos", "reinforce", "ppo", "--algo-configs", "ppo"], r"--algo-configs takes ALGO=FILE items, got 'ppo'"),
        (["--algos", "reinforce", "ppo", "--algo-configs", "a2c=x.yml"], r"'a2c' is not in --algos \['reinforce', 'ppo'\]"),
        (["--algos", "reinforce", "--algo-configs", "reinforce=x.yml"], r"'reinforce=x.yml': REINFORCE's file is --config"),
        (["--algos", "ppo", "--algo-configs", "ppo=no-such.yml"], r"'ppo=no-such.yml': no such file 'no-such.yml'"),
        (
            ["--time-budget", "60", "--workers", str(usable_cores() + 1)],
            rf"--workers {usable_cores() + 1} is more than the {usable_cores()} usable core\(s\) of this machine",
        ),
    ],
)
def test_bad_arguments_fail_before_any_run(tmp_path, argv, message):
    with pytest.raises(SystemExit, match=message):
        main(["compare", *argv, "--n-timesteps", "100", "--out-dir", str(tmp_path)])
    assert not any(tmp_path.iterdir())  # nothing written


@pytest.mark.slow  # a PPO run in its own process
def test_another_algos_entry_can_come_from_a_file_of_our_own(tmp_path):
    # e.g. RecurrentPPO on LunarLanderNoVel-v3, whose entry rl_zoo3 has only under the v2 id: a copy under the v3 id
    config = tmp_path / "ppo.yml"
    entry = {"policy": "MlpPolicy", "n_envs": 2, "n_steps": 64, "batch_size": 64, "n_epochs": 1, "n_timesteps": 256.0}
    config.write_text(yaml.safe_dump({"CartPole-v1": entry}))
    args = CompareArgs(
        algos=["ppo"], seeds=[0], eval_freq=0, n_eval_episodes=1, out_dir=str(tmp_path / "out"),
        algo_configs=[f"ppo={config}"],
    )  # fmt: skip
    assert resolve_args(args).n_timesteps == 256  # the budget from our file, not rl_zoo3's 1e5
    result = compare(args)
    (run,) = result.runs
    assert run["entry_value"] == entry and run["config"] == str(config) and run["num_timesteps"] == 256
    assert f"--algo-configs ppo={config}" in run["command"]


def test_defaults_come_from_the_zoo_yaml_and_the_gymnasium_spec():
    def budget(algo, env_id):
        _, config, key = zoo_entry(algo, env_id)
        return int(yaml.safe_load(Path(config).read_text())[key]["n_timesteps"])

    args = resolve_args(CompareArgs())
    assert (args.n_timesteps, args.threshold) == (budget("reinforce", "CartPole-v1"), 475.0)  # and CartPole-v1's spec
    # No reinforce entry for MountainCar-v0: the budget is the next algo's (rl_zoo3's ppo.yml)
    args = resolve_args(CompareArgs(env="MountainCar-v0", algos=["reinforce", "ppo"]))
    assert (args.n_timesteps, args.threshold) == (budget("ppo", "MountainCar-v0"), -110.0)
    assert resolve_args(CompareArgs(env="Pendulum-v1")).threshold is None  # no reward_threshold in its spec
    assert resolve_args(CompareArgs(threshold=100.0, n_timesteps=5)).threshold == 100.0


def test_an_untuned_default_entry_is_used_only_when_asked():
    with pytest.raises(ValueError, match=r"no hyperparameters for CartPole-v1 .*--allow-default"):
        zoo_entry("sac", "CartPole-v1")
    _, config, key = zoo_entry("sac", "CartPole-v1", allow_default=True)
    assert key == "default" and config.endswith("sac.yml")


def test_summary_names_algos_whose_schedules_end_at_another_budget():
    from sb3_reinforce.compare import budget_notes

    args = CompareArgs(env="CartPole-v1", algos=["reinforce", "ppo", "a2c"], n_timesteps=100_000)
    runs = [
        {"algo": "reinforce", "entry_value": {"n_timesteps": 1e5, "learning_rate": 0.01}},
        {"algo": "ppo", "entry_value": {"n_timesteps": 1e5, "learning_rate": "lin_0.001"}},
        {"algo": "a2c", "entry_value": {"n_timesteps": 5e5, "learning_rate": "lin_7e-4", "ent_coef": 0.0}},
    ]
    notes = "\n".join(budget_notes(args, runs))
    assert "every algo runs 100,000 env steps" in notes
    assert "a2c: its zoo budget is 500,000 steps and its schedules (learning_rate) anneal" in notes
    assert "ppo:" not in notes and "reinforce:" not in notes


def test_summary_table_from_hand_made_runs(tmp_path):
    """summary.md's table is sb3_reinforce.report's, from the runs in memory: checked against numbers worked out by hand."""

    def run(algo, seed, curve):
        return {"algo": algo, "seed": seed, "curve": curve, "config": str(tmp_path / f"{algo}.yml"), "entry": "CartPole-v1"}

    runs = [  # listed out of seed order: the row must not depend on it
        run("reinforce", 1, [(0, 0.0, 10.0, 0.0), (1000, 1.0, 20.0, 0.0), (2000, 2.5, 100.0, 0.0)]),
        run("reinforce", 0, [(0, 0.0, 10.0, 1.0), (1000, 2.0, 40.0, 0.0), (2000, 4.0, 60.0, 0.0)]),
        run("ppo", 0, [(0, 0.0, 5.0, 0.0), (2000, 1.0, 20.0, 0.0)]),
    ]
    args = CompareArgs(algos=["reinforce", "ppo", "a2c"], seeds=[0, 1], n_timesteps=2000, threshold=30.0)
    failures = [{"algo": "a2c", "seed": seed, "error": "ValueError: no entry"} for seed in (0, 1)]
    summary = summary_markdown(args, runs, failures)
    table, failed = summary.split("## Failed runs")
    rows = {
        cells[0]: cells[1:]
        for line in table.splitlines()
        if line.startswith("| ") and (cells := [cell.strip() for cell in line.strip("|").split("|")])[0] in args.algos
    }
    # reinforce: finals 60 and 100: mean 80, sample std 28.28; IQM of 2 values = their mean, and every bootstrap
    # quantile between 2.5% and 97.5% lies between the two (each all-one-value resample has probability 1/4);
    # 30 first reached at 1000 and 2000 steps (median 1500), 2.0 and 2.5 s (median 2.25); fps 2000/4 and 2000/2.5
    assert rows["reinforce"] == ["2/2", "80.0 ± 28.3", "80.0 [60.0, 100.0]", "1,500 (2/2)", "2.25 (2/2)", "650"]
    # ppo: one seed, its value alone; never at 30; one failed seed is not counted as a run
    assert rows["ppo"] == ["1/2", "20.0", "20.0 [20.0, 20.0]", "never (0/1)", "never (0/1)", "2,000"]
    assert rows["a2c"] == ["0/2", "—", "—", "—", "—", "—"]
    assert "| algo | runs | final eval (mean ± std) | final eval IQM [95% CI] | env steps to 30 (median, seeds) |" in summary
    assert "- reinforce: " in summary and "- a2c: " not in summary  # the hyperparameters of the algos that ran
    assert "| a2c | 1 | ValueError: no entry |" in failed


def test_runs_from_two_machines_named_alike_are_told_apart_and_their_time_budgets_not_compared(tmp_path):
    """Every machine here is named vm: summary.md tells runs apart by compare.machine() where a run recorded it"""
    assert re.fullmatch(r"\S+ .+, \d+ cores", machine())

    def run(seed, machine_name):
        curve = [(0, 0.0, 10.0, 0.0), (2000, 2.0, 20.0, 0.0)]
        config = str(tmp_path / "reinforce.yml")
        run = {"algo": "reinforce", "seed": seed, "curve": curve, "config": config, "entry": "CartPole-v1", "host": "vm"}
        return run if machine_name is None else {**run, "machine": machine_name}

    args = CompareArgs(algos=["reinforce"], seeds=[0, 1], n_timesteps=2000, time_budget=2.0)
    summary = summary_markdown(args, [run(0, "aaaa1111 CPU A, 2 cores"), run(1, "bbbb2222 CPU A, 2 cores")], [])
    assert "on 2 host(s) (aaaa1111 CPU A, 2 cores, bbbb2222 CPU A, 2 cores)" in summary
    assert "Their time budgets are not comparable" in summary
    summary = summary_markdown(args, [run(0, "aaaa1111 CPU A, 2 cores"), run(1, "aaaa1111 CPU A, 2 cores")], [])
    assert "Every run trained on one machine: aaaa1111 CPU A, 2 cores." in summary and "host(s)" not in summary
    # runs from before machine() was recorded fall back to their host name, so one machine and old runs are not mixed up
    summary = summary_markdown(args, [run(0, None), run(1, None)], [])
    assert "host(s)" not in summary and "Every run trained" not in summary
