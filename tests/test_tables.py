"""docs/tables.py: the tables of README.md and docs/ are rendered from result files; check each kind on
hand-made files with hand-computed numbers."""

import csv
import json


def _row(table: str, first_cell: str) -> list[str]:
    for line in table.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if cells[0] == first_cell:
            return cells
    raise AssertionError(f"no row {first_cell!r} in\n{table}")


def _measurement(fps: float, used: float, rss: float, n_envs: int) -> dict:
    return {"steps_per_s": fps, "used_steps_per_s": used, "peak_rss_mb": rss, "n_envs": n_envs}


def test_throughput_table_medians_and_ratios(tables, tmp_path):
    record = {
        "env": "CartPole-v1",
        "steps": 50_000,
        "repeats": 3,
        "entry_env": None,
        "machine": {"commit": "abc1234", "torch_threads": 1},
        "measurements": {
            "forward": [_measurement(f, f, 300, 8) for f in (1000, 3000, 2000)],
            "reinforce": [_measurement(f, f / 2, r, 8) for f, r in ((8000, 390), (6000, 400), (9000, 395))],
            "ppo": [_measurement(f, f, 380, 8) for f in (2000, 2000, 5000)],
        },
    }
    path = tmp_path / "CartPole-v1.json"
    path.write_text(json.dumps(record))
    table = tables.throughput_table(path)
    # medians: forward 2000, reinforce 8000 (used 4000), ppo 2000
    assert _row(table, "(c) reinforce") == ["(c) reinforce", "8", "8,000", "6,000-9,000", "4,000", "400"]
    assert "Ratios of steps/s: (c)/(b) = 4.00, (c)/(d) = 4.00." in table
    assert "Of used steps/s: (c)/(b) = 2.00, (c)/(d) = 2.00." in table
    assert "commit abc1234" in table


def test_defaults_table_groups_seeds(tables, tmp_path):
    setting = dict(return_type="total", baseline="mean", normalize_advantage=True, learning_rate=0.003, n_episodes=8)
    for seed, final, train, seconds in ((0, 500.0, 200.0, 4.0), (1, 400.0, 100.0, 6.0), (2, 450.0, 150.0, 5.0)):
        run = dict(env="CartPole-v1", seed=seed, final_eval=final, last_100_train=train, train_seconds=seconds)
        (tmp_path / f"run{seed}.json").write_text(json.dumps({**run, **setting}))
    other = dict(setting, baseline="none")
    run = dict(env="CartPole-v1", seed=0, final_eval=10.0, last_100_train=9.0, train_seconds=1.0)
    (tmp_path / "other.json").write_text(json.dumps({**run, **other}))
    lines = [line for line in tables.defaults_table(tmp_path).splitlines() if line.startswith("| CartPole")]
    # "none" sorts before "mean"; mean 450, sample std 50, worst 400, train mean 150, median seconds 5
    assert lines[0].split(" | ")[2] == "none"
    assert lines[1] == "| CartPole-v1 | total | mean | True | 0.003 | 8 | 3 | 450.0 ± 50.0 | 400.0 | 150.0 | 5.0 |"


def test_sample_efficiency_table_groups_settings(tables, tmp_path):
    common = dict(
        env="Acrobot-v1", vec_env="subset", return_type="reward_to_go", baseline="value", learning_rate="1e-2",
        n_episodes=8, timesteps=300_000, discarded_frac=0.0,
    )  # fmt: skip
    # An older file has no critic/gamma/normalize keys: it ran with the defaults, so it groups with seed 1's run
    runs = [
        dict(common, seed=0, steps_to_threshold=30_000, final_eval=-80.0),
        dict(common, seed=1, steps_to_threshold=None, final_eval=-90.0, critic_batch_size=64, gamma=0.99),
        dict(
            common,
            seed=0,
            steps_to_threshold=10_000,
            final_eval=-70.0,
            normalize_obs=True,
            critic_learning_rate=3e-3,
            n_critic_updates=5,
            time_feature=True,
        ),
    ]
    for number, run in enumerate(runs):
        (tmp_path / f"run{number}.json").write_text(json.dumps(run))
    table = tables.sample_efficiency_table(tmp_path)
    rows = [line.split(" | ") for line in table.splitlines()[2:]]
    assert len(rows) == 2
    # Median of 30k and "never" (the budget counts as infinite) is infinite: not reached
    assert rows[0][2] == "value" and rows[0][5:7] == ["2", "never (30 >300)"]
    assert rows[1][2] == "value (critic lr 0.003, 5 critic passes, obs normalized, time feature)"
    assert rows[1][6] == "10,000 (10)"


def test_variance_table_one_column_pair_per_policy(tables, tmp_path):
    path = tmp_path / "variance.csv"
    with open(path, "w", newline="") as file:
        columns = ["policy", "return_type", "baseline", "mean_return", "relative_variance", "snr"]
        writer = csv.DictWriter(file, fieldnames=columns)
        writer.writeheader()
        for policy, mean_return in (("initial", 22.0), ("a/model.zip", 135.4)):
            writer.writerow(dict(policy=policy, return_type="total", baseline="none", mean_return=mean_return,
                                 relative_variance=1.0, snr=0.5))  # fmt: skip
            writer.writerow(dict(policy=policy, return_type="total", baseline="mean", mean_return=mean_return,
                                 relative_variance=0.25 if policy == "initial" else 0.0123456, snr=2.0))  # fmt: skip
    table = tables.variance_table(path)
    assert "SNR, checkpoint 1 (return 135)" in table.splitlines()[0]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in table.splitlines() if "| total |" in line]
    assert rows == [["total", "none", "1", "0.5", "1", "0.5"], ["total", "mean", "0.25", "2", "0.0123", "2"]]
    assert "checkpoint 1: `a/model.zip`" in table


def test_memory_table_ratio(tables, tmp_path):
    path = tmp_path / "memory.json"
    runs = {"reinforce": _measurement(40_000, 40_000, 420, 8), "ppo": _measurement(7_000, 7_000, 400, 8)}
    path.write_text(json.dumps({"steps": 1_000_000, "machine": {"commit": "abc1234"}, "runs": runs}))
    table = tables.memory_table(path)
    assert _row(table, "reinforce") == ["reinforce", "420", "40,000"]
    assert "REINFORCE's peak RSS is PPO's +5.0%." in table


def test_compare_table_says_when_a_comparison_has_not_run(tables):
    directory = tables.ROOT / "docs" / "results" / "no-such-comparison"
    assert tables.compare_table(directory) == "Not run yet: `docs/results/no-such-comparison/curves.csv` does not exist."


def test_mujoco_table_adds_the_v4_comparison_where_it_ran(tables, tmp_path):
    comparison = tmp_path / "v4" / "Hopper-v4"
    comparison.mkdir(parents=True)
    rows = ["algo,seed,timesteps,seconds,eval_mean"]
    for algo, finals in (("reinforce", (1000.0, 2000.0)), ("ppo", (900.0, 1100.0, 1000.0))):
        for seed, final in enumerate(finals):
            rows += [f"{algo},{seed},0,0.0,10.0", f"{algo},{seed},1000000,100.0,{final}"]
    (comparison / "curves.csv").write_text("\n".join(rows) + "\n")
    table = tables.mujoco_table(tmp_path / "v5", tmp_path / "v4")
    # reinforce: mean 1500, sample std 707.1; ppo: 1000 ± 100; no a2c runs
    assert _row(table, "Hopper-v5")[-3:] == ["1500.0 ± 707.1 (2)", "1000.0 ± 100.0 (3)", "—"]
    assert _row(table, "Walker2d-v5")[-3:] == ["—", "—", "—"]
    assert _row(table, "Hopper-v5")[3] == "not run yet"


def test_a_table_whose_files_are_missing_says_so(tables):
    assert tables.render("throughput docs/results/no-such.json") == "Not run yet: `docs/results/no-such.json` does not exist."
