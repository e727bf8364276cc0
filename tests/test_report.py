"""The tables of summary.md, README.md and docs/ (sb3_reinforce.report) and the script that puts them in the docs
(docs/tables.py): each kind on hand-made files, against numbers worked out by hand."""

import csv
import json

import numpy as np
import pytest

from sb3_reinforce import report


def _row(table: str, first_cell: str) -> list[str]:
    for line in table.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if cells[0] == first_cell:
            return cells
    raise AssertionError(f"no row {first_cell!r} in\n{table}")


def _measurement(fps: float, used: float, rss: float, n_envs: int) -> dict:
    return {"steps_per_s": fps, "used_steps_per_s": used, "peak_rss_mb": rss, "n_envs": n_envs}


def test_throughput_table_medians_and_ratios(tmp_path):
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
    table = report.throughput_table(path)
    # medians: forward 2000, reinforce 8000 (used 4000), ppo 2000
    assert _row(table, "(c) reinforce") == ["(c) reinforce", "8", "8,000", "6,000-9,000", "4,000", "400"]
    assert "Ratios of steps/s: (c)/(b) = 4.00, (c)/(d) = 4.00." in table
    assert "Of used steps/s: (c)/(b) = 2.00, (c)/(d) = 2.00." in table
    assert "commit abc1234" in table
    # an LSTM entry against RecurrentPPO, the two modes alone (benchmarks/throughput.py --modes reinforce ppo_lstm)
    record["measurements"] = {
        "reinforce": record["measurements"]["reinforce"],
        "ppo_lstm": [_measurement(f, f, 500, 8) for f in (900, 1000, 2000)],
    }
    path.write_text(json.dumps(record))
    table = report.throughput_table(path)
    assert _row(table, "(f) ppo_lstm") == ["(f) ppo_lstm", "8", "1,000", "900-2,000", "1,000", "500"]
    assert "Ratios of steps/s: (c)/(f) = 8.00. Of used steps/s: (c)/(f) = 4.00." in table


def test_defaults_table_groups_seeds(tmp_path):
    setting = dict(return_type="total", baseline="mean", normalize_advantage=True, learning_rate=0.003, n_episodes=8)
    for seed, final, train, seconds in ((0, 500.0, 200.0, 4.0), (1, 400.0, 100.0, 6.0), (2, 450.0, 150.0, 5.0)):
        run = dict(env="CartPole-v1", seed=seed, final_eval=final, last_100_train=train, train_seconds=seconds)
        (tmp_path / f"run{seed}.json").write_text(json.dumps({**run, **setting}))
    other = dict(setting, baseline="none")
    run = dict(env="CartPole-v1", seed=0, final_eval=10.0, last_100_train=9.0, train_seconds=1.0)
    (tmp_path / "other.json").write_text(json.dumps({**run, **other}))
    lines = [line for line in report.defaults_table(tmp_path).splitlines() if line.startswith("| CartPole")]
    # "none" sorts before "mean"; mean 450, sample std 50, worst 400, train mean 150, median seconds 5
    assert lines[0].split(" | ")[2] == "none"
    assert lines[1] == "| CartPole-v1 | total | mean | True | 0.003 | 8 | 3 | 450.0 ± 50.0 | 400.0 | 150.0 | 5.0 |"


def test_sample_efficiency_table_groups_settings(tmp_path):
    common = dict(
        env="Acrobot-v1", vec_env="subset", return_type="reward_to_go", baseline="value", learning_rate="1e-2",
        n_episodes=8, timesteps=300_000, discarded_frac=0.0,
    )  # fmt: skip
    # An older file has no critic/gamma/normalize keys: it ran with the defaults, so it groups with seed 1's run
    runs = [
        dict(common, seed=0, steps_to_threshold=30_000, final_eval=-80.0),
        dict(common, seed=1, steps_to_threshold=None, final_eval=-90.0, critic_batch_size=64, gamma=0.99, ent_coef=0.0),
        dict(
            common,
            seed=0,
            steps_to_threshold=10_000,
            final_eval=-70.0,
            normalize_obs=True,
            critic_learning_rate=3e-3,
            n_critic_updates=5,
            time_feature=True,
            ent_coef=0.01,
        ),
    ]
    for number, run in enumerate(runs):
        (tmp_path / f"run{number}.json").write_text(json.dumps(run))
    table = report.sample_efficiency_table(tmp_path)
    rows = [line.split(" | ") for line in table.splitlines()[2:]]
    assert len(rows) == 2
    # Median of 30k and "never" (the budget counts as infinite) is infinite: not reached
    assert rows[0][2] == "value" and rows[0][5:7] == ["2", "never (30 >300)"]
    assert rows[1][2] == "value (critic lr 0.003, 5 critic passes, obs normalized, time feature, ent_coef 0.01)"
    assert rows[1][6] == "10,000 (10)"


def test_variance_table_one_column_pair_per_policy(tmp_path):
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
    table = report.variance_table(path)
    assert "SNR, checkpoint 1 (return 135)" in table.splitlines()[0]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in table.splitlines() if "| total |" in line]
    assert rows == [["total", "none", "1", "0.5", "1", "0.5"], ["total", "mean", "0.25", "2", "0.0123", "2"]]
    assert "checkpoint 1: `a/model.zip`" in table


def test_memory_table_ratio(tmp_path):
    path = tmp_path / "memory.json"
    runs = {"reinforce": _measurement(40_000, 40_000, 420, 8), "ppo": _measurement(7_000, 7_000, 400, 8)}
    path.write_text(json.dumps({"steps": 1_000_000, "machine": {"commit": "abc1234"}, "runs": runs}))
    table = report.memory_table(path)
    assert _row(table, "reinforce") == ["reinforce", "420", "40,000"]
    assert "REINFORCE's peak RSS is PPO's +5.0%." in table


def test_compare_table_says_when_a_comparison_has_not_run(tables):
    directory = tables.ROOT / "docs" / "results" / "no-such-comparison"
    assert tables.compare_table(directory) == "Not run yet: `docs/results/no-such-comparison/curves.csv` does not exist."


def test_mujoco_table_adds_the_v4_comparison_where_it_ran(tmp_path):
    comparison = tmp_path / "v4" / "Hopper-v4"
    comparison.mkdir(parents=True)
    rows = ["algo,seed,timesteps,seconds,eval_mean"]
    for algo, finals in (("reinforce", (1000.0, 2000.0)), ("ppo", (900.0, 1100.0, 1000.0))):
        for seed, final in enumerate(finals):
            rows += [f"{algo},{seed},0,0.0,10.0", f"{algo},{seed},1000000,100.0,{final}"]
    (comparison / "curves.csv").write_text("\n".join(rows) + "\n")
    table = report.mujoco_table(tmp_path / "v5", {}, tmp_path / "v4")
    # reinforce: mean 1500, sample std 707.1; ppo: 1000 ± 100; no a2c runs
    assert _row(table, "Hopper-v5")[-3:] == ["1500.0 ± 707.1 (0, 1)", "1000.0 ± 100.0 (0-2)", "—"]
    assert _row(table, "Walker2d-v5")[-3:] == ["—", "—", "—"]
    assert _row(table, "Hopper-v5")[3] == "not run yet"


def test_mujoco_table_shows_only_runs_of_the_current_entry(tmp_path):
    env_dir = tmp_path / "Hopper-v5"
    (env_dir / "runs").mkdir(parents=True)
    rows = ["algo,seed,timesteps,seconds,eval_mean"]
    for seed, final in enumerate((1000.0, 2000.0, 1200.0)):
        rows += [f"reinforce,{seed},0,0.0,10.0", f"reinforce,{seed},1000004,100.0,{final}"]
        run = {"algo": "reinforce", "seed": seed, "spec": {}, "entry_value": {"n_episodes": 8}}
        (env_dir / "runs" / f"reinforce_seed{seed}.json").write_text(json.dumps(run))
    (env_dir / "curves.csv").write_text("\n".join(rows) + "\n")
    # mean 1400, sample std 529.2, worst 1000; above both Tianshou figures (395.8, 416.0)
    table = report.mujoco_table(tmp_path, {"Hopper-v5": {"n_episodes": 8}})
    assert _row(table, "Hopper-v5")[1:] == ["1.0M", "3 (0-2)", "1400.0 ± 529.2", "1000.0", "395.8", "416.0", "the 10M figure"]
    table = report.mujoco_table(tmp_path, {"Hopper-v5": {"n_episodes": 16}})
    assert _row(table, "Hopper-v5")[3] == "not run yet with the current entry"


def test_a_table_whose_files_are_missing_says_so(tables):
    assert tables.render("throughput docs/results/no-such.json") == "Not run yet: `docs/results/no-such.json` does not exist."


# ---------------------------------------------------------------------------------------------------
# Comparisons: curves.csv of `sb3-reinforce compare`
# ---------------------------------------------------------------------------------------------------

# Two reinforce seeds (finals 60 and 100) and one ppo seed (final 20), as compare's runs hold them
HAND_MADE_RUNS = [
    {"algo": "reinforce", "seed": 0, "curve": [(0, 0.0, 10.0, 1.0), (1000, 2.0, 40.0, 0.5), (2000, 4.0, 60.0, 0.25)]},
    {"algo": "reinforce", "seed": 1, "curve": [(0, 0.0, 10.0, 0.0), (1000, 1.0, 20.0, 0.0), (2000, 2.5, 100.0, 0.0)]},
    {"algo": "ppo", "seed": 0, "curve": [(0, 0.0, 5.0, 0.0), (2000, 1.0, 20.0, 0.0)]},
]


def test_curves_csv_reads_back_as_written(tmp_path):
    report.write_curves_csv(HAND_MADE_RUNS, tmp_path / "curves.csv")
    curves = report.read_curves(tmp_path / "curves.csv")
    assert list(curves) == [("reinforce", 0), ("reinforce", 1), ("ppo", 0)]
    np.testing.assert_array_equal(curves[("reinforce", 0)], [[0, 0.0, 10.0], [1000, 2.0, 40.0], [2000, 4.0, 60.0]])
    for key, curve in report.curves_of_runs(HAND_MADE_RUNS).items():
        np.testing.assert_array_equal(curve, curves[key])


def test_compare_kind_renders_the_comparison_of_a_directory(tables, tmp_path):
    report.write_curves_csv(HAND_MADE_RUNS, tmp_path / "curves.csv")
    table = tables.render(f"compare {tmp_path} 30")
    assert table.splitlines()[0] == (
        "| algo | seeds | final eval (mean ± std) | final eval IQM [95% CI] | env steps to 30 (median, seeds) | "
        "seconds to 30 (median, seeds) | training fps (median) |"
    )
    # mean 80, sample std 28.28; IQM of 2 values = their mean; the 2.5% and 97.5% bootstrap quantiles are the two
    # values (a resample of one value twice has probability 1/4); 30 first reached at 1000 and 2000 steps, 2.0 and
    # 2.5 s; fps 2000/4 and 2000/2.5
    assert _row(table, "reinforce")[1:] == [
        "2 (0, 1)",
        "80.0 ± 28.3",
        "80.0 [60.0, 100.0]",
        "1,500 (2/2)",
        "2.25 (2/2)",
        "650",
    ]
    assert _row(table, "ppo")[1:] == ["1 (0)", "20.0", "20.0 [20.0, 20.0]", "never (0/1)", "never (0/1)", "2,000"]
    assert "to 30" not in tables.render(f"compare {tmp_path}")  # no threshold, no threshold columns


def test_compare_table_iqm_drops_a_quarter_at_each_end_and_does_not_depend_on_the_seeds_order():
    finals = {3: 100.0, 0: -50.0, 7: 10.0, 1: 20.0, 2: 30.0, 5: 40.0, 6: 1000.0, 4: 50.0}
    curves = {("a", seed): np.array([[0, 0.0, 0.0], [10, 1.0, final]]) for seed, final in finals.items()}
    row = report.algo_summary({seed: curve for (_, seed), curve in curves.items()})
    # sorted: -50 10 20 30 40 50 100 1000: floor(8/4) = 2 dropped at each end, mean of 20 30 40 50 = 35
    assert row["seeds"] == list(range(8)) and row["iqm"] == pytest.approx(35.0)
    shuffled = dict(reversed(list(curves.items())))
    assert report.compare_table(shuffled) == report.compare_table(curves)


def test_compare_table_names_the_runs_of_each_algo_out_of_the_seeds_it_was_meant_to_run():
    table = report.compare_table(report.curves_of_runs(HAND_MADE_RUNS), algos=["reinforce", "a2c", "ppo"], n_seeds=2)
    assert [line.split(" | ")[0] for line in table.splitlines()[2:]] == ["| reinforce", "| a2c", "| ppo"]
    assert _row(table, "a2c") == ["a2c", "0/2", "—", "—", "—"]
    assert _row(table, "ppo")[:2] == ["ppo", "1/2"]


# ---------------------------------------------------------------------------------------------------
# Report tables: report seeds only, IQM [CI], mean ± std, worst seed
# ---------------------------------------------------------------------------------------------------


def test_seed_list_names_consecutive_seeds_as_a_range():
    assert report.seed_list(list(range(1000, 1010))) == "1000-1009"
    assert report.seed_list([1009, 1000, 1002, 1001, 1005, 1007, 1008]) == "1000-1002, 1005, 1007-1009"
    assert report.seed_list([3, 4]) == "3, 4" and report.seed_list([7]) == "7"
    with pytest.raises(ValueError, match=r"seeds must not be empty, got \[\]"):
        report.seed_list([])


def test_format_steps_says_a_budget_as_it_is_said():
    assert report.format_steps(100_004) == "100k"
    assert report.format_steps(1_001_472) == "1M" and report.format_steps(999_999) == "1M"
    assert report.format_steps(2_500_000) == "2.5M" and report.format_steps(50_010) == "50k"
    assert report.format_steps(512) == "512"


def _write_comparison(directory, finals_by_algo):
    """A hand-made curves.csv: each (algo, seed) evaluated at 0, 50k and its last step, with the given evals"""
    directory.mkdir(parents=True, exist_ok=True)
    runs = [
        {"algo": algo, "seed": seed, "curve": [(0, 0.0, 10.0, 0.0), (50_000, 5.0, middle, 0.0), (last, 10.0, final, 0.0)]}
        for algo, seeds in finals_by_algo.items()
        for seed, (middle, final, last) in seeds.items()
    ]
    report.write_curves_csv(runs, directory / "curves.csv")


# seed: (eval at 50k steps, final eval, steps at the final eval)
REINFORCE_SEEDS = {1000: (260.0, 300.0, 100_004), 1001: (100.0, 100.0, 100_004), 1002: (240.0, 500.0, 100_004),
                   1003: (200.0, 200.0, 100_012)}  # fmt: skip
PPO_SEEDS = {1000: (140.0, 150.0, 100_352), 1001: (200.0, 250.0, 100_352), 1003: (300.0, 350.0, 100_352)}


def test_report_kind_renders_iqm_ci_mean_std_and_the_worst_seed(tables, tmp_path):
    _write_comparison(tmp_path, {"reinforce": REINFORCE_SEEDS, "ppo": PPO_SEEDS})
    table = tables.render(f"report {tmp_path} 250")
    assert table.splitlines()[0] == (
        "| algo | seeds | env steps | final eval IQM [95% CI] | final eval mean ± std | worst seed | "
        "env steps to 250: median (seeds there) | env steps to 250: slowest seed |"
    )
    # reinforce finals 300 100 500 200: IQM of 4 drops 1 at each end, (200 + 300) / 2 = 250; its bootstrap CI is
    # [100, 500] because a resample whose middle two are both the minimum (or both the maximum) has probability
    # 13/256 > 2.5%; mean 275, sample std sqrt(87500 / 3) = 170.8; worst 100 on seed 1001. 250 first reached at
    # 50,000 (1000) and 100,004 (1002) steps, never by 1001 and 1003: the median of 4 is inf, "never"
    assert _row(table, "reinforce")[1:] == [
        "4 (1000-1003)", "100k", "250.0 [100.0, 500.0]", "275.0 ± 170.8", "100.0 (seed 1001)", "never (2/4)",
        "never (seed 1001)",
    ]  # fmt: skip
    # ppo finals 150 250 350 (3 seeds: IQM = mean; the CI is [min, max], each all-one-value resample having
    # probability 1/27 > 2.5%); 250 reached by 1001 at its last step and 1003 at 50k: median 100,352
    assert _row(table, "ppo")[1:] == [
        "3 (1000, 1001, 1003)", "100k", "250.0 [150.0, 350.0]", "250.0 ± 100.0", "150.0 (seed 1000)", "100,352 (2/3)",
        "never (seed 1000)",
    ]  # fmt: skip
    assert "to 250" not in tables.render(f"report {tmp_path}")


def test_report_kinds_refuse_a_tuning_seed(tables, tmp_path):
    _write_comparison(tmp_path / "CartPole-v1", {"reinforce": {**REINFORCE_SEEDS, 4: (0.0, 0.0, 100_000)}})
    text = f"<!-- table: report {tmp_path / 'CartPole-v1'} -->\n<!-- /table -->\n"
    with pytest.raises(
        ValueError, match=r"<!-- table: report .*-->: .* \(>= first_seed=1000\), but reinforce has seeds \[4\]"
    ):
        tables.regenerate(text)
    with pytest.raises(ValueError, match=r"reinforce has seeds \[4\]"):
        tables.render(f"report-envs {tmp_path} CartPole-v1")
    curves = report.read_curves(tmp_path / "CartPole-v1" / "curves.csv")
    assert _row(report.report_table(curves, first_seed=0), "reinforce")[1] == "5 (4, 1000-1003)"


def test_report_envs_kind_has_one_row_per_env_and_algo(tables, tmp_path):
    _write_comparison(tmp_path / "Hopper-v5", {"reinforce": REINFORCE_SEEDS, "ppo": PPO_SEEDS})
    table = tables.render(f"report-envs {tmp_path} Walker2d-v5 Hopper-v5")
    assert table.splitlines()[0] == (
        "| env | algo | seeds | env steps | final eval IQM [95% CI] | final eval mean ± std | worst seed |"
    )
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in table.splitlines()[2:]]
    assert rows == [
        ["Walker2d-v5", "—", "0", "—", "not run yet", "—", "—"],
        ["Hopper-v5", "reinforce", "4 (1000-1003)", "100k", "250.0 [100.0, 500.0]", "275.0 ± 170.8", "100.0 (seed 1001)"],
        ["Hopper-v5", "ppo", "3 (1000, 1001, 1003)", "100k", "250.0 [150.0, 350.0]", "250.0 ± 100.0", "150.0 (seed 1000)"],
    ]
    with pytest.raises(ValueError, match="report-envs takes DIR ENV"):
        tables.render(f"report-envs {tmp_path}")


def test_report_runs_kind_reads_per_run_json_files(tables, tmp_path):
    # As benchmarks/defaults_suite.py writes them: <dir>/<env>/<setting>_seed<seed>.json (other keys are not read)
    (tmp_path / "Hopper-v5").mkdir()
    for seeds, algo, setting in ((REINFORCE_SEEDS, "reinforce", "reinforce_defaults"), (PPO_SEEDS, "ppo", "ppo")):
        for seed, (middle, final, last) in seeds.items():
            evals = [[0, 0.0, 10.0], [50_000, 5.0, middle], [last, 10.0, final]]
            run = {"algo": algo, "setting": setting, "env": "Hopper-v5", "seed": seed, "final_eval": final, "evals": evals}
            (tmp_path / "Hopper-v5" / f"{setting}_seed{seed}.json").write_text(json.dumps(run))
    table = tables.render(f"report-runs {tmp_path} Hopper-v5 Walker2d-v5")
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in table.splitlines()[2:]]
    # the numbers of test_report_kind_renders_iqm_ci_mean_std_and_the_worst_seed; REINFORCE first, though "ppo" sorts before
    assert rows == [
        [
            "Hopper-v5",
            "reinforce_defaults",
            "4 (1000-1003)",
            "100k",
            "250.0 [100.0, 500.0]",
            "275.0 ± 170.8",
            "100.0 (seed 1001)",
        ],
        ["Hopper-v5", "ppo", "3 (1000, 1001, 1003)", "100k", "250.0 [150.0, 350.0]", "250.0 ± 100.0", "150.0 (seed 1000)"],
        ["Walker2d-v5", "—", "0", "—", "not run yet", "—", "—"],
    ]


def test_trial_runs_kind_shows_trial_seeds_and_refuses_report_seeds(tables, tmp_path):
    (tmp_path / "Hopper-v5").mkdir()
    for seed, final in ((0, 300.0), (1, 100.0), (2, 200.0)):
        run = {
            "algo": "reinforce",
            "setting": "reinforce_value",
            "seed": seed,
            "evals": [[0, 0.0, 5.0], [500_000, 9.0, final]],
        }
        (tmp_path / "Hopper-v5" / f"reinforce_value_seed{seed}.json").write_text(json.dumps(run))
    table = tables.render(f"trial-runs {tmp_path} Hopper-v5")
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in table.splitlines()[2:]]
    assert rows == [
        ["Hopper-v5", "reinforce_value", "3 (0-2)", "500k", "200.0 [100.0, 300.0]", "200.0 ± 100.0", "100.0 (seed 1)"]
    ]
    with pytest.raises(ValueError, match="report seeds"):  # the report kind refuses these trial runs ...
        tables.render(f"report-runs {tmp_path} Hopper-v5")
    run = {"algo": "ppo", "seed": 1000, "evals": [[0, 0.0, 5.0], [500_000, 9.0, 1.0]]}
    (tmp_path / "Hopper-v5" / "ppo_seed1000.json").write_text(json.dumps(run))
    with pytest.raises(ValueError, match=r"trial-runs shows trial seeds only \(0-99\), but .* has \[1000\]"):
        tables.render(f"trial-runs {tmp_path} Hopper-v5")  # ... and the trial kind refuses a report seed


def test_a_report_of_a_comparison_that_has_not_run_says_so(tables):
    assert tables.render("report docs/results/no-such-comparison 475") == (
        "Not run yet: `docs/results/no-such-comparison/curves.csv` does not exist."
    )


# ---------------------------------------------------------------------------------------------------
# docs/tables.py: markers in, tables out
# ---------------------------------------------------------------------------------------------------


def test_regenerate_rewrites_the_body_between_the_markers_and_nothing_else(tables, tmp_path):
    path = tmp_path / "table.json"
    path.write_text(json.dumps({"columns": ["a", "b"], "rows": [[1, "x"]]}))
    text = f"Before.\n\n<!-- table: json {path} -->\nstale\nlines\n<!-- /table -->\n\nAfter.\n"
    expected = f"Before.\n\n<!-- table: json {path} -->\n| a | b |\n|---|---|\n| 1 | x |\n<!-- /table -->\n\nAfter.\n"
    assert tables.regenerate(text) == expected
    assert tables.regenerate(expected) == expected  # what --check compares: nothing to do once rendered


def test_an_unknown_kind_names_its_marker(tables):
    with pytest.raises(ValueError, match=r"<!-- table: nope x -->: unknown table kind 'nope'"):
        tables.regenerate("<!-- table: nope x -->\n<!-- /table -->\n")


def test_report_kind_adds_another_comparison_as_a_named_row(tables, tmp_path):
    # e.g. REINFORCE with another config (docs/recurrent.md's frame stacking), run into a directory of its own
    _write_comparison(tmp_path / "main", {"reinforce": REINFORCE_SEEDS, "ppo": PPO_SEEDS})
    _write_comparison(tmp_path / "other", {"reinforce": {1000: (0.0, 40.0, 100_000), 1001: (0.0, 60.0, 100_000)}})
    table = tables.render(f"report {tmp_path / 'main'} 250 {tmp_path / 'other'}=reinforce_framestack")
    assert [line.split("|")[1].strip() for line in table.splitlines()[2:]] == ["reinforce", "ppo", "reinforce_framestack"]
    # finals 40 and 60: 2 seeds, IQM = mean = 50, CI [40, 60], std sqrt(200) = 14.1, 250 never reached
    assert _row(table, "reinforce_framestack")[1:] == [
        "2 (1000, 1001)", "100k", "50.0 [40.0, 60.0]", "50.0 ± 14.1", "40.0 (seed 1000)", "never (0/2)", "never (seed 1000)",
    ]  # fmt: skip
    assert _row(table, "reinforce")[3] == "250.0 [100.0, 500.0]"  # the main comparison's rows are unchanged
    _write_comparison(tmp_path / "two", {"reinforce": REINFORCE_SEEDS, "ppo": PPO_SEEDS})
    with pytest.raises(ValueError, match=r"=x: a row of its own needs a comparison of one algo, got \['ppo', 'reinforce'\]"):
        tables.render(f"report {tmp_path / 'main'} {tmp_path / 'two'}=x")
    # A named row whose comparison has not run: the table as it stands, and a line that says which row is missing
    table, note = tables.render(f"report {tmp_path / 'main'} 250 {tmp_path / 'none'}=x").split("\n\n")
    assert table == tables.render(f"report {tmp_path / 'main'} 250")
    assert note == f"Row x: Not run yet: `{tmp_path / 'none'}/curves.csv` does not exist."


def _write_runs(directory, runs_by_algo):
    """A hand-made curves.csv: each (algo, seed) evaluated at 0 and at its last (steps, seconds, final eval)"""
    directory.mkdir(parents=True, exist_ok=True)
    runs = [
        {"algo": algo, "seed": seed, "curve": [(0, 0.0, 10.0, 0.0), (*last, 0.0)]}
        for algo, seeds in runs_by_algo.items()
        for seed, last in seeds.items()
    ]
    report.write_curves_csv(runs, directory / "curves.csv")


def test_equal_time_kind_shows_each_algo_at_ppos_seconds_and_at_its_steps(tables, tmp_path):
    steps, time = tmp_path / "compare" / "Hopper-v4", tmp_path / "equal-time" / "Hopper-v4"
    # seed: (env steps, training seconds, final eval) of each run's last evaluation
    _write_runs(steps, {
        "reinforce": {1000: (1_000_000, 130.0, 1100.0), 1001: (1_000_000, 150.0, 1300.0), 1002: (1_000_000, 140.0, 1200.0)},
        "ppo": {1000: (1_000_000, 600.0, 1000.0), 1001: (1_000_000, 700.0, 2000.0), 1002: (1_000_000, 650.0, 1500.0)},
    })  # fmt: skip
    table = tables.render(f"equal-time {steps} {time}")
    assert table.splitlines()[0] == (
        "| algo | budget | seeds | env steps | final eval IQM [95% CI] | final eval mean ± std | worst seed | "
        "training seconds (median) |"
    )
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in table.splitlines()[2:]]
    # PPO's median seconds (650) are the budget: its row is its row at equal steps; 3 seeds: IQM = mean, CI [min, max]
    ppo_row = ["ppo", "1M steps = ppo's time", "3 (1000-1002)", "1M", "1500.0 [1000.0, 2000.0]", "1500.0 ± 500.0",
               "1000.0 (seed 1000)", "650"]  # fmt: skip
    reinforce_1m = ["reinforce", "1M steps", "3 (1000-1002)", "1M", "1200.0 [1100.0, 1300.0]", "1200.0 ± 100.0",
                    "1100.0 (seed 1000)", "140"]  # fmt: skip
    assert rows == [ppo_row, ["reinforce", "ppo's time", "0", "—", "not run yet", "—", "—", "—"], reinforce_1m]
    _write_runs(time, {
        "reinforce": {1000: (4_500_000, 660.0, 3000.0), 1001: (4_600_000, 655.0, 2500.0), 1002: (4_700_000, 670.0, 2800.0)},
    })  # fmt: skip
    rows = [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in tables.render(f"equal-time {steps} {time}").splitlines()[2:]
    ]
    # finals 3000 2500 2800: mean 2766.7, sample std sqrt((233.3² + 266.7² + 33.3²) / 2) = 251.7; median steps 4.6M
    reinforce_time = ["reinforce", "ppo's time", "3 (1000-1002)", "4.6M", "2766.7 [2500.0, 3000.0]", "2766.7 ± 251.7",
                      "2500.0 (seed 1001)", "660"]  # fmt: skip
    assert rows == [ppo_row, reinforce_time, reinforce_1m]
    with pytest.raises(ValueError, match="equal-time takes STEPS_DIR TIME_DIR"):
        tables.render(f"equal-time {steps}")
    assert tables.render(f"equal-time {tmp_path / 'none'} {time}").startswith("Not run yet")
    with pytest.raises(ValueError, match="budget_algo='ppo' has no runs at equal steps"):
        report.equal_time_table(report.read_curves(time / "curves.csv"), None)


def test_targets_kind_checks_each_bound_against_the_report_seeds(tables, tmp_path, monkeypatch):
    monkeypatch.setattr(tables, "ROOT", tmp_path)
    _write_comparison(tmp_path / "both", {"reinforce": REINFORCE_SEEDS, "ppo": PPO_SEEDS})
    _write_comparison(tmp_path / "alone", {"reinforce": REINFORCE_SEEDS})
    Target = tables.Target
    targets = [
        # evals at 50k: 260, 100, 240, 200. At 200 seeds 1000, 1002 and 1003 get there at 50k, seed 1001 never
        Target(17, "a", "both", "100k", 4, threshold=200, every_seed_by=60_000, median_steps=50_000),
        # ... and at 100 every seed gets there at 50k: the slowest at 50,000 <= 60k, the median 50,000 <= 50,000
        Target(17, "b", "both", "100k", 4, threshold=100, every_seed_by=60_000, median_steps=50_000),
        # finals 300, 100, 500, 200 (IQM 250.0, as ppo's 150, 250, 350): at least ppo's, but not above it
        Target(21, "c", "both", "100k", 4, iqm="ppo"),
        Target(21, "d", "alone", "100k", 4, iqm="ppo", other="both", ahead=True),
        Target(17, "e", "alone", "100k", 5, every_final=150, worst=150, iqm=250),
        Target(18, "f", "missing", "1M", 5, iqm=-250),
        Target(21, "g", "alone", "100k", 4, iqm="ppo", ahead=True),  # ppo has no runs in "alone"
    ]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in tables.targets_table(targets).splitlines()]
    assert rows[0] == ["issue", "env", "budget", "target", "report seeds", "reached", "met"]
    assert rows[2:] == [
        ["17", "a", "100k", "every seed at 200 by 60k steps; median steps to 200 <= 50,000", "4 (1000-1003)",
         "slowest seed never there; median 50,000 steps", "no"],
        ["17", "b", "100k", "every seed at 100 by 60k steps; median steps to 100 <= 50,000", "4 (1000-1003)",
         "slowest seed 50,000 steps; median 50,000 steps", "yes"],
        ["21", "c", "100k", "IQM >= ppo's", "4 (1000-1003)", "IQM 250.0 (ppo: 250.0)", "yes"],
        ["21", "d", "100k", "IQM above ppo's", "4 (1000-1003)", "IQM 250.0 (ppo: 250.0)", "no"],
        ["17", "e", "100k", "every seed's final eval >= 150; IQM >= 250; worst seed >= 150", "4 (1000-1003)",
         "1 of 4 below; IQM 250.0; worst 100.0 (seed 1001)", "— (4 of 5 seeds)"],
        ["18", "f", "1M", "IQM >= -250", "0", "not run yet", "—"],
        ["21", "g", "100k", "IQM above ppo's", "4 (1000-1003)", "IQM 250.0 (ppo: not run yet)", "no"],
    ]  # fmt: skip
    _write_comparison(tmp_path / "tuning", {"reinforce": {**REINFORCE_SEEDS, 7: (1.0, 1.0, 100_000)}})
    with pytest.raises(ValueError, match="report seeds only"):
        tables.targets_table([Target(17, "h", "tuning", "100k", 5, iqm=0)])


def test_every_target_of_the_docs_renders_from_its_runs(tables):
    """The issues' goals as the docs list them: one row each, on runs that exist or a row that says they have not run"""
    table = tables.render("targets")
    assert len(table.splitlines()) == 2 + len(tables.TARGETS)
    assert {target.issue for target in tables.TARGETS} == {17, 18, 21}
