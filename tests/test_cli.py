"""``sb3-reinforce train``: the front door uses the tuned zoo entry, saves in rl_zoo3's layout, and evaluates what it
saved."""

import sys

import pytest
import yaml

from sb3_reinforce import REINFORCE
from sb3_reinforce.cli import evaluate_run, main, zoo_main
from sb3_reinforce.zoo import default_config


@pytest.mark.slow  # trains, evaluates, then enjoy runs it
def test_train_uses_the_zoo_entry_and_flags_override_single_values(tmp_path, capsys):
    main(
        [
            "train", "--env", "CartPole-v1", "--total-timesteps", "2000", "--n-envs", "2", "--eval-episodes", "3",
            "--log-folder", str(tmp_path), "--no-progress-bar", "--n-episodes", "4", "--baseline", "mean",
            "--net-arch", "16", "16",
        ]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert "Using the entry 'CartPole-v1' of" in out and "deterministic eval over 3 episodes" in out
    run_dir = tmp_path / "reinforce" / "CartPole-v1_1"
    model = REINFORCE.load(run_dir / "CartPole-v1.zip")
    entry = yaml.safe_load(default_config().read_text())["CartPole-v1"]
    assert model.n_episodes == 4 and model.baseline == "mean" and model.n_envs == 2
    assert model.policy_kwargs["net_arch"] == dict(pi=[16, 16], vf=[16, 16])
    assert model.lr_schedule(1.0) == entry["learning_rate"]  # not overridden: the entry's, not the class default
    assert 2000 <= model.num_timesteps <= 2001
    capsys.readouterr()

    # rl_zoo3's tools read the run as one of their own
    from sb3_reinforce.zoo import main as zoo_main

    zoo_main(["enjoy", "--env", "CartPole-v1", "-f", str(tmp_path), "--no-render", "-n", "50"])
    assert "Loading" in capsys.readouterr().out


@pytest.mark.slow  # trains and evaluates twice
def test_train_saves_vec_normalize_statistics_and_its_evaluation_is_reproducible(tmp_path, capsys):
    main(
        [
            "train", "--env", "Pendulum-v1", "--total-timesteps", "3000", "--eval-episodes", "2", "--seed", "3",
            "--log-folder", str(tmp_path), "--no-progress-bar",
        ]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert "Using the entry 'Pendulum-v1'" in out
    run_dir = tmp_path / "reinforce" / "Pendulum-v1_1"
    assert (run_dir / "Pendulum-v1" / "vecnormalize.pkl").is_file()
    printed = next(line for line in out.splitlines() if line.startswith("deterministic eval"))
    mean, std = evaluate_run(run_dir, "Pendulum-v1", 2, seed=3 + 1_000_000)
    assert printed == f"deterministic eval over 2 episodes: {mean:.1f} +/- {std:.1f}"


@pytest.mark.slow  # trains and evaluates twice
def test_the_evaluation_builds_the_env_with_the_entry_wrapper(tmp_path, capsys):
    # Acrobot-v1's entry adds TimeFeatureWrapper (one more observation); the model would not load on the bare env
    main(
        [
            "train", "--env", "Acrobot-v1", "--total-timesteps", "1000", "--n-envs", "2", "--n-episodes", "2",
            "--eval-episodes", "1", "--log-folder", str(tmp_path), "--no-progress-bar",
        ]
    )  # fmt: skip
    assert "deterministic eval over 1 episodes" in capsys.readouterr().out
    run_dir = tmp_path / "reinforce" / "Acrobot-v1_1"
    assert REINFORCE.load(run_dir / "Acrobot-v1.zip").observation_space.shape == (7,)
    mean, _ = evaluate_run(run_dir, "Acrobot-v1", 1, seed=0)
    assert -500.0 <= mean <= 0.0


def test_train_without_an_entry_says_so_and_uses_the_class_defaults(tmp_path, capsys):
    main(["train", "--env", "MountainCar-v0", "--total-timesteps", "400", "--n-envs", "1", "--eval-episodes", "1",
          "--log-folder", str(tmp_path), "--no-progress-bar"])  # fmt: skip
    assert "No entry for MountainCar-v0" in capsys.readouterr().out
    model = REINFORCE.load(tmp_path / "reinforce" / "MountainCar-v0_1" / "MountainCar-v0.zip")
    assert model.lr_schedule(1.0) == 3e-3 and model.n_episodes == 8


def test_train_command_rejects_unknown_baseline(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--baseline", "median"])
    assert "median" in capsys.readouterr().err


def test_a_bad_override_fails_before_training(tmp_path):
    with pytest.raises(SystemExit, match=r"gamma must be a number in \[0, 1\], got 1.5"):
        main(["train", "--env", "CartPole-v1", "--gamma", "1.5", "--log-folder", str(tmp_path), "--no-progress-bar"])
    assert not (tmp_path / "reinforce").exists()


@pytest.mark.parametrize(
    "argv, blocked, expected",
    [
        (["train", "--env", "CartPole-v1"], "rl_zoo3", "sb3-reinforce train needs the zoo extra (rl_zoo3 not installed)"),
        (["compare", "--env", "CartPole-v1"], "matplotlib", "sb3-reinforce compare needs the compare extra (matplotlib not"),
        (["variance", "--env", "CartPole-v1"], "rl_zoo3", "sb3-reinforce variance needs the compare extra (rl_zoo3 not"),
    ],
)
def test_a_command_without_its_extra_names_it_in_one_line_before_any_work(argv, blocked, expected, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, blocked, None)  # as if not installed
    extra = "zoo" if argv[0] == "train" else "compare"
    with pytest.raises(SystemExit) as exc_info:
        main(argv)
    message = str(exc_info.value.code)
    assert message.startswith(expected) and message.endswith(f"pip install 'sb3-reinforce[{extra}]'")
    assert "\n" not in message and not list(tmp_path.iterdir())


def test_the_zoo_command_without_the_zoo_extra_names_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)
    with pytest.raises(SystemExit) as exc_info:
        zoo_main(["enjoy", "--env", "CartPole-v1"])
    assert exc_info.value.code == (
        "sb3-reinforce-zoo enjoy needs the zoo extra (optuna not installed): pip install 'sb3-reinforce[zoo]'"
    )


# A user's own env package: registering its env on import, as gymnasium's docs show
MY_ENV_PACKAGE = '''
import gymnasium as gym
import numpy as np


class Corridor(gym.Env):
    """Walk right to the end of a corridor of `length` cells: -1 per step, the episode ends at the last cell."""

    def __init__(self, length=5):
        self.length = length
        self.observation_space = gym.spaces.Box(0.0, 1.0, (1,), np.float32)
        self.action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.position = 0
        return np.array([0.0], np.float32), {}

    def step(self, action):
        self.position = max(0, self.position + (1 if action == 1 else -1))
        done = self.position == self.length - 1
        return np.array([self.position / self.length], np.float32), -1.0, done, False, {}


gym.register("my_corridor/Corridor-v0", entry_point=Corridor, max_episode_steps=50)
'''


@pytest.fixture
def my_env_package(tmp_path, monkeypatch):
    package = tmp_path / "src" / "my_corridor"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(MY_ENV_PACKAGE)
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    yield "my_corridor"
    import gymnasium as gym

    gym.registry.pop("my_corridor/Corridor-v0", None)
    sys.modules.pop("my_corridor", None)


def test_train_runs_a_users_own_env_with_its_kwargs(my_env_package, tmp_path, capsys):
    main(
        [
            "train", "--env", "my_corridor/Corridor-v0", "--gym-packages", my_env_package, "--env-kwargs", "length:3",
            "--total-timesteps", "3000", "--n-envs", "2", "--eval-episodes", "5", "--log-folder", str(tmp_path / "logs"),
            "--no-progress-bar",
        ]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert "No entry for my_corridor/Corridor-v0" in out and "--gym-packages my_corridor" in out
    # With length 3 the shortest episode is 2 steps (-2), and REINFORCE finds it in 3000 steps; with the default
    # length 5 no policy could score above -4, so the kwargs reached the env
    assert "deterministic eval over 5 episodes: -2.0 +/- 0.0" in out
    run_dir = tmp_path / "logs" / "reinforce" / "my_corridor-Corridor-v0_1"
    saved = yaml.load((run_dir / "my_corridor-Corridor-v0" / "args.yml").read_text(), Loader=yaml.UnsafeLoader)
    assert saved["env_kwargs"] == {"length": 3} and saved["gym_packages"] == ["my_corridor"]


def test_an_env_id_gymnasium_does_not_know_fails_in_one_line_naming_the_imported_packages(my_env_package, tmp_path):
    with pytest.raises(SystemExit) as raised:
        main(["train", "--env", "my_corridor/Corridor-v9", "--gym-packages", my_env_package, "--log-folder", str(tmp_path)])
    message = str(raised.value)
    assert "\n" not in message and "unknown env id 'my_corridor/Corridor-v9'" in message
    assert "registered after importing gymnasium, my_corridor" in message
    assert "did you mean 'my_corridor/Corridor-v0'" in message
    assert "add --gym-packages MODULE" in message
    assert not (tmp_path / "reinforce").exists()


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["--gym-packages", "no_such_package_here"], "--gym-packages: cannot import 'no_such_package_here'"),
        (["--env-kwargs", "length3"], "--env-kwargs: 'length3' is not KEY:VALUE"),
        (["--env-kwargs", "name:maze"], "--env-kwargs: the value of 'name:maze' is not a Python expression"),
    ],
)
def test_bad_env_flags_fail_before_training(argv, expected, tmp_path):
    with pytest.raises(SystemExit, match=expected):
        main(["train", "--env", "CartPole-v1", "--log-folder", str(tmp_path), *argv])
    assert not (tmp_path / "reinforce").exists()
