"""The rl_zoo3 integration (sb3_reinforce.zoo): registration, the ExperimentManager of REINFORCE runs (and of the
others), train then enjoy, config checks, the rl_zoo3 version check, the hyperparameter sampler and converter,
pruning, and several workers sharing one optuna study: in a journal file, and on a real PostgreSQL server, with a
worker killed mid-trial."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna
import pytest
import rl_zoo3
import torch as th
import yaml
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

from sb3_reinforce import REINFORCE, SubsetDummyVecEnv, SubsetSubprocVecEnv
from sb3_reinforce.zoo import (
    ALGO,
    RLZooVersionError,
    ZooExperimentManager,
    adapter,
    check_hyperparams,
    convert_reinforce_params,
    default_config,
    experiment_manager,
    find_entry,
    main,
    make_env,
    register,
    sample_reinforce_params,
    zoo_entry,
)
from sb3_reinforce.zoo.storage import open_storage
from tests.helpers import REPO, package_env


def write_config(path: Path, **entry) -> str:
    entry = {"n_timesteps": 1000, "policy": "MlpPolicy", **entry}
    path.write_text(yaml.safe_dump({"CartPole-v1": entry}))
    return str(path)


# ---------------------------------------------------------------------------------------------------
# Registration and the packaged config
# ---------------------------------------------------------------------------------------------------


def test_register_reaches_every_registry_and_the_algo_choices(capsys):
    import rl_zoo3.enjoy
    import rl_zoo3.exp_manager
    import rl_zoo3.hyperparams_opt
    import rl_zoo3.train
    import rl_zoo3.utils

    register()
    register()  # idempotent
    # One insertion reaches every module because they share the dicts: this fails if a release copies them
    for module in (rl_zoo3, rl_zoo3.utils, rl_zoo3.exp_manager, rl_zoo3.train, rl_zoo3.enjoy):
        assert module.ALGOS[ALGO] is REINFORCE, module.__name__
    for module in (rl_zoo3.hyperparams_opt, rl_zoo3.exp_manager):
        assert module.HYPERPARAMS_SAMPLER[ALGO] is sample_reinforce_params
        assert module.HYPERPARAMS_CONVERTER[ALGO] is convert_reinforce_params
    # argparse's choices=list(ALGOS.keys()) is built inside train()/enjoy(): reinforce must be among them
    for command in ("train", "enjoy"):
        with pytest.raises(SystemExit) as exc_info:
            main([command, "--help"])
        assert exc_info.value.code == 0
        assert "reinforce" in capsys.readouterr().out


def test_packaged_config_is_found_and_every_entry_is_valid():
    path = default_config()
    assert path == REPO / "zoo_configs" / "reinforce.yml"
    entries = yaml.safe_load(path.read_text())
    assert {"CartPole-v1", "Acrobot-v1", "LunarLander-v3", "Pendulum-v1"} <= set(entries)
    for env_id, entry in entries.items():
        check_hyperparams(entry, env_id)
        assert isinstance(entry["n_timesteps"], float), f"{env_id}: write n_timesteps as !!float"


# ---------------------------------------------------------------------------------------------------
# The ExperimentManager: REINFORCE runs get our config and the Subset VecEnvs, the others run as in rl_zoo3
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("vec_env_type", ["dummy", "subproc"])
def test_only_reinforce_runs_get_the_subset_vec_envs(tmp_path, vec_env_type):
    expected = {
        "reinforce": {"dummy": SubsetDummyVecEnv, "subproc": SubsetSubprocVecEnv}[vec_env_type],
        "ppo": {"dummy": DummyVecEnv, "subproc": SubprocVecEnv}[vec_env_type],
        "a2c": {"dummy": DummyVecEnv, "subproc": SubprocVecEnv}[vec_env_type],
    }
    for algo, vec_env_class in expected.items():
        exp = experiment_manager(algo, "CartPole-v1", log_folder=str(tmp_path), vec_env_type=vec_env_type)
        assert exp.vec_env_class is vec_env_class, algo
    # And the env a PPO run trains on is SB3's own, whatever ran before in this process
    experiment_manager("reinforce", "CartPole-v1", log_folder=str(tmp_path)).create_envs(2, no_log=True).close()
    model, _ = experiment_manager("ppo", "CartPole-v1", log_folder=str(tmp_path)).setup_experiment()
    assert type(model.get_env()) is DummyVecEnv


def test_a_ppo_run_of_the_zoo_command_trains_on_sb3s_vec_env(tmp_path, monkeypatch):
    built = []
    create_envs = ZooExperimentManager.create_envs

    def spy(self, *args, **kwargs):
        env = create_envs(self, *args, **kwargs)
        built.append((self.algo, type(env)))
        return env

    monkeypatch.setattr(ZooExperimentManager, "create_envs", spy)
    # The user's --algo wins over our default, and the run is rl_zoo3's own: its config and its VecEnv
    main(["train", "--algo", "ppo", "--env", "CartPole-v1", "-n", "256", "-f", str(tmp_path), "--eval-freq", "-1"])
    assert built == [("ppo", DummyVecEnv)]
    assert (tmp_path / "ppo" / "CartPole-v1_1" / "CartPole-v1.zip").is_file()
    import rl_zoo3.train
    from rl_zoo3.exp_manager import ExperimentManager

    assert rl_zoo3.train.ExperimentManager is ExperimentManager  # restored after the command


def test_config_defaults_to_the_packaged_one_for_reinforce_only(tmp_path):
    config = write_config(tmp_path / "c.yml")
    assert experiment_manager("reinforce", "CartPole-v1").config == str(default_config())
    assert experiment_manager("reinforce", "CartPole-v1", config=config).config == config
    assert Path(experiment_manager("ppo", "CartPole-v1").config).parent == Path(rl_zoo3.__file__).parent / "hyperparams"


def test_entries_are_found_by_rl_zoo3_and_the_default_entry_only_when_allowed(tmp_path):
    config = tmp_path / "c.yml"
    config.write_text(yaml.safe_dump({"Pendulum-v1": {"n_timesteps": 1.0, "policy": "MlpPolicy", "n_episodes": 3},
                                      "default": {"n_timesteps": 2.0, "policy": "MlpPolicy"}}))  # fmt: skip
    assert find_entry("reinforce", "Pendulum-v1", config=str(config)) == (
        {"n_timesteps": 1.0, "policy": "MlpPolicy", "n_episodes": 3}, str(config), "Pendulum-v1",
    )  # fmt: skip
    assert find_entry("reinforce", "CartPole-v1", config=str(config)) == (
        {"n_timesteps": 2.0, "policy": "MlpPolicy"}, str(config), "default",
    )  # fmt: skip
    with pytest.raises(ValueError, match="untuned 'default' entry: pass --allow-default"):
        zoo_entry("reinforce", "CartPole-v1", config=str(config))
    assert zoo_entry("reinforce", "CartPole-v1", allow_default=True, config=str(config))[2] == "default"
    assert find_entry("reinforce", "MountainCar-v0") is None  # the packaged config has neither
    with pytest.raises(ValueError, match="no hyperparameters for MountainCar-v0"):
        zoo_entry("reinforce", "MountainCar-v0")
    with pytest.raises(ValueError, match="cannot read reinforce's hyperparameters"):
        zoo_entry("reinforce", "CartPole-v1", config=str(tmp_path / "missing.yml"))


def test_make_env_builds_the_entry_envs_without_a_model(tmp_path):
    env, hyperparams = make_env("reinforce", "Pendulum-v1", seed=0, n_envs=2)
    entry = yaml.safe_load(default_config().read_text())["Pendulum-v1"]
    from stable_baselines3.common.vec_env import VecNormalize

    assert isinstance(env, VecNormalize) and bool(entry["normalize"])  # the entry's normalize
    assert type(env.venv) is SubsetDummyVecEnv and env.num_envs == 2
    assert "n_timesteps" not in hyperparams and "normalize" not in hyperparams  # rl_zoo3's own keys are gone
    assert hyperparams["n_episodes"] == entry["n_episodes"] and callable(hyperparams["learning_rate"])
    model = REINFORCE(env=env, seed=0, **hyperparams)
    assert model.n_episodes == entry["n_episodes"]
    env.close()


# ---------------------------------------------------------------------------------------------------
# Every use of rl_zoo3 beyond its public API checks its version
# ---------------------------------------------------------------------------------------------------


def _adapter_uses(tmp_path):
    exp = experiment_manager("reinforce", "CartPole-v1", log_folder=str(tmp_path))
    return {
        "register": register,
        "ZooExperimentManager": lambda: experiment_manager("ppo", "CartPole-v1"),
        "read_entry": lambda: adapter.read_entry(exp),
        "parse_schedules": lambda: adapter.parse_schedules({"learning_rate": 1e-3}),
        "entry_envs": lambda: adapter.entry_envs(exp),
        "train_with": lambda: adapter.train_with(ZooExperimentManager).__enter__(),
        "record_video_here": lambda: adapter.record_video_here().__enter__(),
    }


def test_another_rl_zoo3_version_fails_with_a_clear_message(tmp_path, monkeypatch):
    uses = _adapter_uses(tmp_path)
    monkeypatch.setattr(rl_zoo3, "__version__", "2.10.0")
    for name, use in uses.items():
        with pytest.raises(RLZooVersionError, match=r"written for rl_zoo3 2\.9\.x .* rl_zoo3 2\.10\.0 is installed") as info:
            use()
        assert "pip install 'rl_zoo3>=2.9.2,<2.10'" in str(info.value), name
    # The command says it in one line, before any work
    with pytest.raises(SystemExit) as exc_info:
        main(["train", "--env", "CartPole-v1", "-f", str(tmp_path / "logs")])
    message = str(exc_info.value.code)
    assert message.startswith("sb3-reinforce-zoo train: error: sb3_reinforce.zoo was written for rl_zoo3 2.9.x")
    assert "\n" not in message and not (tmp_path / "logs").exists()
    monkeypatch.setattr(rl_zoo3, "__version__", "2.9.7")  # any 2.9 release passes
    register()


def test_record_video_here_changes_only_rl_zoo3s_record_video_command(monkeypatch):
    calls = []

    def record(args, *more, **kwargs):
        calls.append(args)
        return 0

    monkeypatch.setattr(subprocess, "call", record)
    path = os.environ["PATH"]
    with adapter.record_video_here():
        calls.clear()  # imageio-ffmpeg runs its binary once to find it
        subprocess.call(["python", "-m", "rl_zoo3.record_video", "--env", "CartPole-v1"])
        subprocess.call(["python", "-m", "rl_zoo3.enjoy"])
        assert Path(adapter.shutil.which("ffmpeg") or "").name == "ffmpeg"  # found: the system's or imageio-ffmpeg's
    assert calls == [
        [sys.executable, "-m", "sb3_reinforce.zoo", "record_video", "--env", "CartPole-v1"],
        ["python", "-m", "rl_zoo3.enjoy"],
    ]
    assert subprocess.call is record and os.environ["PATH"] == path  # restored


# ---------------------------------------------------------------------------------------------------
# train, then enjoy
# ---------------------------------------------------------------------------------------------------


def test_train_writes_a_model_that_enjoy_loads_and_runs(tmp_path, capsys):
    # No --algo, no -conf: reinforce and zoo_configs/reinforce.yml
    main(["train", "--env", "CartPole-v1", "-n", "3000", "-f", str(tmp_path), "--seed", "0", "--eval-freq", "-1"])
    run_dir = tmp_path / "reinforce" / "CartPole-v1_1"
    model = REINFORCE.load(run_dir / "CartPole-v1.zip")
    assert model.num_timesteps >= 3000
    entry = yaml.safe_load(default_config().read_text())["CartPole-v1"]  # the packaged config
    assert (model.n_episodes, model.baseline) == (entry["n_episodes"], entry["baseline"])
    assert yaml.unsafe_load((run_dir / "CartPole-v1" / "config.yml").read_text())["n_episodes"] == entry["n_episodes"]
    capsys.readouterr()

    main(["enjoy", "--algo", "reinforce", "--env", "CartPole-v1", "-f", str(tmp_path), "--no-render", "-n", "300"])
    out = capsys.readouterr().out
    assert f"Loading {run_dir / 'CartPole-v1.zip'}" in out
    assert "Mean reward:" in out


# ---------------------------------------------------------------------------------------------------
# Bad configs fail before rl_zoo3 builds anything, naming the key or value
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "entry, params, expected",
    [
        ({"n_epsiodes": 8}, [], ["'n_epsiodes'", "did you mean 'n_episodes'"]),
        ({"baseline": "median"}, [], ["baseline", "'median'"]),
        ({"gamma": 1.5}, [], ["gamma", "1.5"]),
        ({"learning_rate": "1e-3"}, [], ["learning_rate", "'1e-3'", "!!float"]),
        ({"normalize_kwargs": "dict(norm_reward=False)"}, [], ["'normalize_kwargs'", "normalize:"]),
        ({"seed": 3}, [], ["'seed'", "--seed"]),
        ({"ent_coef": "0.1x"}, [], ["ent_coef", "'0.1x'"]),
        ({"n_timesteps": "1e5"}, [], ["n_timesteps", "'1e5'", "!!float"]),
        ({"n_envs": 0}, [], ["n_envs", "got 0"]),
        ({}, ["-params", "n_episodes:0"], ["n_episodes", "got 0", "-params"]),
    ],
)
def test_bad_config_fails_before_training_naming_the_problem(tmp_path, entry, params, expected):
    config = write_config(tmp_path / "bad.yml", **entry)
    log_folder = tmp_path / "logs"
    with pytest.raises(SystemExit) as exc_info:
        main(["train", "--algo", "reinforce", "--env", "CartPole-v1", "-conf", config, "-f", str(log_folder), *params])
    message = str(exc_info.value.code)
    assert config in message and "'CartPole-v1'" in message
    for text in expected:
        assert text in message
    assert not log_folder.exists()  # nothing was built


def test_optimize_without_pandas_fails_before_the_search(monkeypatch, tmp_path):
    # rl_zoo3 writes its report with optuna's trials_dataframe (pandas), after the whole search has run; pandas is
    # in the zoo extra, which every command checks first
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(SystemExit) as exc_info:
        main(["train", "-optimize", "-f", str(tmp_path / "logs")])
    assert str(exc_info.value.code) == (
        "sb3-reinforce-zoo train needs the zoo extra (pandas not installed): pip install 'sb3-reinforce[zoo]'"
    )
    assert not (tmp_path / "logs").exists()


# ---------------------------------------------------------------------------------------------------
# Sampler, converter, pruning
# ---------------------------------------------------------------------------------------------------


def test_sampled_hyperparams_build_a_reinforce_and_the_converter_round_trips():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0), direction="maximize")
    env = make_vec_env("CartPole-v1", n_envs=2)
    yaml_entry = yaml.safe_load(default_config().read_text())["CartPole-v1"]
    seen = set()
    for _ in range(12):
        trial = study.ask()
        kwargs = sample_reinforce_params(trial, n_actions=0, n_envs=2, additional_args={})
        # What --trial-id rebuilds from the stored params is what the trial trained with
        assert convert_reinforce_params(trial.params) == kwargs
        assert set(kwargs["policy_kwargs"]) == {"net_arch", "activation_fn"}
        model = REINFORCE("MlpPolicy", env, **kwargs)
        assert model.n_episodes == kwargs["n_episodes"] and model.baseline == kwargs["baseline"]
        # rl_zoo3 merges the sample over the YAML entry: the result is still a valid entry
        check_hyperparams({**yaml_entry, **kwargs}, "merged")
        study.tell(trial, 0.0)
        seen.add(kwargs["baseline"])
    assert len(seen) > 1
    # And from the study's storage
    for frozen in study.trials:
        assert REINFORCE("MlpPolicy", env, **convert_reinforce_params(frozen.params)).policy is not None


def test_converter_maps_net_arch_and_activation_to_policy_kwargs():
    params = {
        "n_episodes": 16, "learning_rate": 3e-4, "gamma": 1.0, "return_type": "total", "baseline": "leave_one_out",
        "normalize_advantage": False, "ent_coef": 1e-3, "max_grad_norm": 1.0, "critic_learning_rate": 1e-3,
        "n_critic_updates": 5, "net_arch": "medium", "activation_fn": "relu",
    }  # fmt: skip
    kwargs = sample_reinforce_params(optuna.trial.FixedTrial(params), 0, 1, {})
    assert kwargs == {
        **{k: v for k, v in params.items() if k not in ("net_arch", "activation_fn")},
        "policy_kwargs": {"net_arch": dict(pi=[256, 256], vf=[256, 256]), "activation_fn": th.nn.ReLU},
    }
    model = REINFORCE("MlpPolicy", make_vec_env("CartPole-v1", n_envs=1), **kwargs)
    assert isinstance(model.policy.activation_fn(), th.nn.ReLU)


def test_rl_zoo3_trial_eval_callback_prunes_reinforce():
    from rl_zoo3.callbacks import TrialEvalCallback

    # Any reported value is below the threshold: the first evaluation prunes
    study = optuna.create_study(direction="maximize", pruner=optuna.pruners.ThresholdPruner(lower=1e9))
    trial = study.ask()
    callback = TrialEvalCallback(make_vec_env("CartPole-v1", n_envs=1), trial, n_eval_episodes=1, eval_freq=20)
    model = REINFORCE("MlpPolicy", make_vec_env("CartPole-v1", n_envs=2, seed=0), n_episodes=4, seed=0)
    model.learn(50_000, callback=callback)
    assert callback.is_pruned
    assert model.num_timesteps == 40  # stopped at the first evaluation, mid-batch


# ---------------------------------------------------------------------------------------------------
# Distributed optimization
# ---------------------------------------------------------------------------------------------------


def optimize_worker(storage: str, folder: Path, worker: int, *more: str) -> subprocess.Popen:
    """
    One ``sb3-reinforce-zoo train -optimize`` worker of the study ``s`` in ``storage``, in a process (and process group,
    for killpg) of its own: ``--n-trials 2`` random trials of 2000 steps, evaluated once, unless ``more`` says otherwise
    (rl_zoo3's parser keeps the last value of a flag).
    """
    command = [
        sys.executable, "-m", "sb3_reinforce.zoo", "train", "--algo", "reinforce", "--env", "CartPole-v1",
        "-optimize", "--n-trials", "2", "--n-jobs", "1", "--storage", storage, "--study-name", "s",
        "-n", "2000", "--sampler", "random", "--pruner", "none", "--eval-episodes", "2", "--n-evaluations", "1",
        "--seed", str(worker), "-f", str(folder / f"worker{worker}"), "--no-optim-plots", "--num-threads", "1", *more,
    ]  # fmt: skip
    return subprocess.Popen(
        command, cwd=folder, env=package_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip


def finish(workers: list[subprocess.Popen], timeout: float = 180) -> None:
    """Wait for every worker, and assert that each one exited with 0 (showing the end of its output otherwise)."""
    for worker in workers:
        output = worker.communicate(timeout=timeout)[0]
        assert worker.returncode == 0, output[-3000:]


def kill(workers: list[subprocess.Popen]) -> None:
    """Kill the workers still running, with their child processes (SIGKILL: nothing of theirs runs after it)."""
    for worker in workers:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


@pytest.mark.slow  # two optimizing processes, then a training
def test_two_workers_share_one_journal_study(tmp_path):
    storage = tmp_path / "study.log"
    # Both at once, as on a cluster: the journal file's lock keeps their writes apart
    workers = [optimize_worker(str(storage), tmp_path, worker) for worker in range(2)]
    try:
        finish(workers)
    finally:
        kill(workers)

    study = optuna.load_study(
        study_name="s", storage=optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(storage)))
    )
    # Each worker runs its own --n-trials 2: four trials in the one study means both wrote to it
    assert len(study.get_trials(states=[optuna.trial.TrialState.COMPLETE])) == 4
    assert len({trial.number for trial in study.trials}) == 4
    assert "command" in study.user_attrs  # rl_zoo3's own record of the command

    # --trial-id trains with a stored trial's hyperparameters, through our converter (rl_zoo3's load_trial)
    trial = study.trials[1]
    main([
        "train", "--env", "CartPole-v1", "--storage", str(storage), "--study-name", "s", "--trial-id", "1", "-n", "500",
        "-f", str(tmp_path / "retrain"), "--eval-freq", "-1", "--seed", "0",
    ])  # fmt: skip
    model = REINFORCE.load(tmp_path / "retrain" / "reinforce" / "CartPole-v1_1" / "CartPole-v1.zip")
    for name in ("n_episodes", "baseline", "gamma", "return_type", "normalize_advantage", "ent_coef"):
        assert getattr(model, name) == trial.params[name], name
    assert model.lr_schedule(1.0) == pytest.approx(trial.params["learning_rate"])
    assert model.policy_kwargs["net_arch"] == convert_reinforce_params(trial.params)["policy_kwargs"]["net_arch"]


# ---------------------------------------------------------------------------------------------------
# A study on a PostgreSQL server
# ---------------------------------------------------------------------------------------------------


def _postgres_bin() -> Path | None:
    """:return: The folder of the newest PostgreSQL server binaries (Debian's layout), if any"""
    folders = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda folder: int(folder.parent.name))
    return next((folder for folder in reversed(folders) if (folder / "initdb").is_file()), None)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def postgres():
    """
    A PostgreSQL server of the tests' own: initdb into a temporary folder, pg_ctl on a free port of 127.0.0.1 (and a
    Unix socket in the folder), ``trust`` authentication for the user ``optuna``. Stopped and its folder removed at the
    end, after a failure too. initdb refuses to run as root (as the tests do in CI): then the server runs as the
    ``postgres`` user (made by Debian's package) or ``nobody``, through runuser.

    :return: The server's URL, without a database (``postgresql://optuna@127.0.0.1:PORT``)
    """
    bin_dir = _postgres_bin()
    if bin_dir is None:
        missing = "no PostgreSQL server under /usr/lib/postgresql/*/bin (.ci/run installs Debian's postgresql package)"
        if os.environ.get("CI"):  # CI must run these tests: .ci/run installs the server
            pytest.fail(missing)
        pytest.skip(missing)
    folder = Path(tempfile.mkdtemp(prefix="sb3-reinforce-postgres-"))  # pytest's tmp_path is root's alone (mode 700)
    as_user: list[str] = []
    if os.geteuid() == 0:
        user = "postgres" if _user_exists("postgres") else "nobody"
        shutil.chown(folder, user)
        as_user = ["runuser", "-u", user, "--"]

    def run(*command: str, check: bool = True) -> None:
        # cwd: the server's user may not enter the checkout's folder (root's home in CI), and PostgreSQL needs its cwd
        subprocess.run([*as_user, *command], check=check, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    data, port, started = folder / "data", _free_port(), False
    try:
        run(str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "optuna", "-E", "UTF8", "--no-sync")
        started = True
        run(
            str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"), "-w", "-t", "60",
            "-o", f"-h 127.0.0.1 -p {port} -k {folder} -c fsync=off", "start",
        )  # fmt: skip
        yield f"postgresql://optuna@127.0.0.1:{port}"
    finally:
        if started:
            run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(folder, ignore_errors=True)


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def new_database(server: str, name: str) -> str:
    """:return: The URL of a new, empty database ``name`` on ``server``"""
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"


def trial_states(storage: optuna.storages.BaseStorage) -> dict[int, str]:
    """:return: The state of each trial of the study ``s`` (none before a worker created it). One storage object for
    every call: each new one opens connections of its own, and polling would exhaust the server's"""
    try:
        study = optuna.load_study(study_name="s", storage=storage)
    except KeyError:  # no such study yet
        return {}
    return {trial.number: trial.state.name for trial in study.get_trials(deepcopy=False)}


def wait_for(condition, what: str, timeout: float = 180, workers: tuple[subprocess.Popen, ...] = ()) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        for worker in workers:
            assert worker.poll() is None, f"a worker ended while waiting for {what}: {worker.communicate()[0][-3000:]}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


@pytest.mark.slow  # two optimizing processes on a PostgreSQL server
def test_two_workers_share_one_postgresql_study(postgres, tmp_path):
    url = new_database(postgres, "two_workers")
    # Both at once on an empty database: they race to create optuna's tables (open_storage lets the losers retry)
    workers = [optimize_worker(url, tmp_path, worker, "--heartbeat-interval", "1") for worker in range(2)]
    try:
        finish(workers)
    finally:
        kill(workers)
    study = optuna.load_study(study_name="s", storage=open_storage(url))
    # Each worker runs its own --n-trials 2: four finished trials in the one study means both wrote to it
    assert [trial.state for trial in study.trials] == [optuna.trial.TrialState.COMPLETE] * 4
    assert "command" in study.user_attrs  # rl_zoo3's own record of the command
    import psycopg

    with psycopg.connect(url) as connection:  # each trial recorded its heartbeat: rl_zoo3's study was opened by us
        assert connection.execute("SELECT count(DISTINCT trial_id) FROM trial_heartbeats").fetchone() == (4,)

    # The best trial's parameters load, through rl_zoo3's load_trial (the --trial-id route) and our converter
    best = study.best_trial
    kwargs = experiment_manager(ALGO, "CartPole-v1", log_folder=str(tmp_path / "logs")).load_trial(url, "s")
    assert kwargs == convert_reinforce_params(best.params)
    env = make_vec_env("CartPole-v1", n_envs=2, seed=0, vec_env_cls=SubsetDummyVecEnv)
    model = REINFORCE("MlpPolicy", env, seed=0, **kwargs)
    assert model.n_episodes == best.params["n_episodes"] and model.baseline == best.params["baseline"]
    model.learn(500)


OPEN_AT_ONCE = """
import sys, time
from pathlib import Path
import optuna
from sb3_reinforce.zoo.storage import open_storage

url, barrier, n = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
(barrier / sys.argv[4]).touch()
while len(list(barrier.iterdir())) < n:  # every process has imported optuna and the package
    time.sleep(0.001)
optuna.create_study(storage=open_storage(url), study_name="s", load_if_exists=True)
"""


@pytest.mark.slow  # three Python processes on a PostgreSQL server
def test_workers_opening_an_empty_database_at_once_all_get_the_study(postgres, tmp_path):
    # Measured without the retry in open_storage: 2 of 3 such processes failed (duplicate key value violates unique
    # constraint "pg_type_typname_nsp_index"), each of them creating optuna's tables
    url = new_database(postgres, "at_once")
    command = [sys.executable, "-c", OPEN_AT_ONCE, url, str(tmp_path), "3"]
    processes = [
        subprocess.Popen([*command, str(index)], env=package_env(), stderr=subprocess.PIPE, text=True) for index in range(3)
    ]
    errors = [process.communicate(timeout=120)[1] for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0], "\n".join(error[-2000:] for error in errors)
    assert optuna.get_all_study_names(storage=url) == ["s"]


@pytest.mark.slow  # three optimizing processes on a PostgreSQL server, one of them killed
def test_a_worker_killed_mid_trial_is_failed_by_the_heartbeat_and_the_study_goes_on(postgres, tmp_path):
    url = new_database(postgres, "killed_worker")
    storage = open_storage(url, heartbeat_interval=None)  # the tables, before the first worker
    heartbeat = ["--heartbeat-interval", "1", "--grace-period", "2"]
    # Worker 0 starts a trial that lasts minutes; worker 1 joins with short trials
    workers = [optimize_worker(url, tmp_path, 0, *heartbeat, "--n-trials", "1", "-n", "10000000")]
    try:
        wait_for(lambda: trial_states(storage) == {0: "RUNNING"}, "worker 0's trial", workers=tuple(workers))
        workers.append(optimize_worker(url, tmp_path, 1, *heartbeat, "--n-trials", "3"))
        wait_for(lambda: len(trial_states(storage)) > 1, "worker 1's first trial", workers=tuple(workers))
        os.killpg(workers[0].pid, signal.SIGKILL)  # a node lost, a job cancelled: no chance to tell the study
        workers[0].wait()
        killed_at = time.monotonic()
        assert trial_states(storage)[0] == "RUNNING"  # nothing else knows yet
        finish(workers[1:])  # the other worker goes on
        states = trial_states(storage)
        assert [states[number] for number in (1, 2, 3)] == ["COMPLETE"] * 3
        # Worker 1 marked trial 0 FAIL if it started a trial once trial 0's last heartbeat was 2 s old
        assert states[0] in ("RUNNING", "FAIL")

        # A worker started later continues the study, and the first trial it starts fails the dead one
        time.sleep(max(0.0, killed_at + 3 - time.monotonic()))
        workers.append(optimize_worker(url, tmp_path, 2, *heartbeat))
        finish(workers[2:])
    finally:
        kill(workers)
    study = optuna.load_study(study_name="s", storage=url)
    assert [trial.state.name for trial in study.trials] == ["FAIL"] + ["COMPLETE"] * 5
    assert [trial.number for trial in study.trials] == list(range(6))
    assert study.best_trial.number > 0


@pytest.mark.parametrize("storage", ["postgresql://optuna:secret@127.0.0.1:1/db", "postgres://optuna:secret@127.0.0.1:1/db"])
def test_a_postgresql_storage_without_its_driver_fails_in_one_line_naming_the_extra(storage, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(SystemExit) as exc_info:
        main(["train", "-optimize", "--storage", storage, "--study-name", "s", "-f", str(tmp_path / "logs")])
    assert str(exc_info.value.code) == (
        f"--storage {storage.replace(':secret', ':***')} needs the distributed extra (psycopg not installed): "
        "pip install 'sb3-reinforce[distributed]'"
    )  # one line, without the password
    assert not (tmp_path / "logs").exists()


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--storage", "study.db"], "--storage 'study.db' is neither a journal file .* nor a database URL"),
        (["--storage", "sqlite:///s.db", "--heartbeat-interval", "-1"], "--heartbeat-interval must be .* got -1"),
        (["--storage", "sqlite:///s.db", "--grace-period", "0"], "--grace-period must be a positive .* got 0"),
        (["--storage", "sqlite:///s.db", "--heartbeat-interval", "0", "--grace-period", "5"], "--grace-period 5 needs"),
    ],
)
def test_bad_storage_settings_fail_before_the_search(args, expected, tmp_path):
    with pytest.raises(SystemExit, match=expected):
        main(["train", "-optimize", "--study-name", "s", "-f", str(tmp_path / "logs"), *args])
    assert not (tmp_path / "logs").exists()


def test_optimize_opens_a_database_storage_with_a_heartbeat(tmp_path):
    # SQLite, without a server: what rl_zoo3 passes to optuna.create_study is replaced by open_storage's storage
    url = f"sqlite:///{tmp_path / 'study.db'}"
    main([
        "train", "--env", "CartPole-v1", "-optimize", "--n-trials", "1", "-n", "200", "--sampler", "random",
        "--pruner", "none", "--eval-episodes", "1", "--n-evaluations", "1", "--storage", url, "--study-name", "s",
        "-f", str(tmp_path / "logs"), "--no-optim-plots", "--heartbeat-interval", "7", "--grace-period", "30",
    ])  # fmt: skip
    assert [trial.state for trial in optuna.load_study(study_name="s", storage=url).trials] == [
        optuna.trial.TrialState.COMPLETE
    ]
    import sqlite3

    with sqlite3.connect(tmp_path / "study.db") as connection:
        assert connection.execute("SELECT count(*) FROM trial_heartbeats").fetchone() == (1,)


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--trial-id", "2"], "--trial-id needs --storage and --study-name"),
        (["--storage", "s.log", "--study-name", "s", "--trial-id", "0"], "ignores --trial-id 0"),
    ],
)
def test_trial_ids_rl_zoo3_would_ignore_are_refused(args, expected, tmp_path):
    with pytest.raises(SystemExit, match=expected):
        main(["train", "--env", "CartPole-v1", "-f", str(tmp_path / "logs"), *args])
    assert not (tmp_path / "logs").exists()


@pytest.mark.slow  # two trainings
def test_continue_training_with_i_uses_the_saved_vec_normalize_statistics(tmp_path):
    import pickle

    # Pendulum-v1's entry normalizes observations; 8 envs x 200 steps: one batch of N=8 in 1600 steps
    common = ["--env", "Pendulum-v1", "-f", str(tmp_path), "--seed", "0", "--eval-freq", "-1", "-params", "n_episodes:8"]
    main(["train", "-n", "2000", *common])
    first = tmp_path / "reinforce" / "Pendulum-v1_1"
    with open(first / "Pendulum-v1" / "vecnormalize.pkl", "rb") as file:
        first_count = pickle.load(file).obs_rms.count
    assert first_count > 2000

    main(["train", "-n", "1600", "-i", str(first / "Pendulum-v1.zip"), *common])
    second = tmp_path / "reinforce" / "Pendulum-v1_2"
    with open(second / "Pendulum-v1" / "vecnormalize.pkl", "rb") as file:
        second_count = pickle.load(file).obs_rms.count
    # The continued run started from the saved statistics (a fresh VecNormalize would hold about 1600 + 8)
    assert second_count == pytest.approx(first_count + 8 + 1600, abs=8)
    model = REINFORCE.load(second / "Pendulum-v1.zip")
    assert model._n_updates >= 2  # the first run's update, then the continued run's


# ---------------------------------------------------------------------------------------------------
# rl_zoo3's other tools, with reinforce registered
# ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """A short CartPole run in rl_zoo3's layout, with the periodic evaluations the plot tools read."""
    folder = tmp_path_factory.mktemp("zoo_tools")
    for seed in ("0", "1"):
        main(["train", "--env", "CartPole-v1", "-n", "3000", "-f", str(folder), "--seed", seed, "--eval-freq", "1000",
              "--eval-episodes", "2", "--n-eval-envs", "1"])  # fmt: skip
    return folder


@pytest.mark.slow  # trained_run trains twice
def test_record_video_writes_an_mp4(trained_run):
    pytest.importorskip("moviepy")
    out = trained_run / "video"
    main(["record_video", "--env", "CartPole-v1", "-f", str(trained_run), "-n", "50", "-o", str(out)])
    videos = list(out.glob("*.mp4"))
    assert len(videos) == 1 and videos[0].stat().st_size > 1000


@pytest.mark.slow  # trained_run trains twice
def test_plot_tools_read_reinforce_runs(trained_run, monkeypatch, tmp_path):
    pytest.importorskip("seaborn")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    import matplotlib

    matplotlib.use("Agg")
    main(["plot_train", "-a", "reinforce", "-e", "CartPole-v1", "-f", str(trained_run), "-w", "5"])
    import matplotlib.pyplot as plt

    assert plt.gca().get_lines(), "plot_train drew no curve"
    data = tmp_path / "results"
    main(["all_plots", "-a", "reinforce", "-e", "CartPole-v1", "-f", str(trained_run), "-o", str(data), "--no-display"])
    import pickle

    with open(tmp_path / "results.pkl", "rb") as file:
        results = pickle.load(file)
    assert any(key.startswith("REINFORCE") for key in results["CartPole-v1"])


def test_docs_example_config_is_the_shipped_entry():
    docs = (REPO / "docs" / "zoo.md").read_text()
    block = docs.split("```yaml\n", 1)[1].split("```", 1)[0]
    assert yaml.safe_load(block)["CartPole-v1"] == yaml.safe_load(default_config().read_text())["CartPole-v1"]


@pytest.mark.parametrize("command", ["load_from_hub"])
def test_hub_commands_accept_reinforce(command, capsys):
    # Not run for real (no network here): their argument parsers know the algorithm
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert "reinforce" in capsys.readouterr().out


@pytest.mark.slow  # trains, then records a video per checkpoint in subprocesses
def test_record_training_joins_checkpoint_videos(tmp_path):
    pytest.importorskip("moviepy")
    main(["train", "--env", "CartPole-v1", "-n", "2000", "-f", str(tmp_path), "--seed", "0", "--eval-freq", "-1",
          "--save-freq", "1000"])  # fmt: skip
    # Its record_video subprocesses run ours (adapter.record_video_here), and ffmpeg is imageio-ffmpeg's if the
    # system has none
    main(["record_training", "--env", "CartPole-v1", "-f", str(tmp_path), "-n", "50"])
    video = tmp_path / "reinforce" / "CartPole-v1_1" / "videos" / "training.mp4"
    assert video.stat().st_size > 1000
