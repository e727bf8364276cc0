"""What ``pip install sb3-reinforce`` gives, without extras: the algorithm trains, saves and loads; none of the tools'
packages is installed or imported; and a command that needs an extra says which, in one line."""

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# What the wheel is built from (pyproject.toml's packages, package data and readme)
SOURCES = ("pyproject.toml", "README.md", "sb3_reinforce", "zoo_configs")


@pytest.mark.slow  # a fresh Python process importing torch and SB3
def test_import_sb3_reinforce_imports_no_tool():
    # The CLI module too: it must start without the extras to say which one a subcommand needs
    code = (
        "import sys, sb3_reinforce, sb3_reinforce.cli; "
        "print(sorted(m for m in ('rl_zoo3', 'optuna', 'pandas', 'matplotlib', 'yaml', 'sb3_contrib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO).stdout
    assert out.strip() == "[]"


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{' '.join(command)}\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    return result


CORE_SCRIPT = """
import importlib.util, sys
import sb3_reinforce
from stable_baselines3.common.env_util import make_vec_env
from sb3_reinforce import REINFORCE, SubsetDummyVecEnv

env = make_vec_env("CartPole-v1", n_envs=2, seed=0, vec_env_cls=SubsetDummyVecEnv)
model = REINFORCE("MlpPolicy", env, n_episodes=4, seed=0)
model.learn(1000)
model.save("model.zip")
loaded = REINFORCE.load("model.zip", env=env)
obs = env.reset()
assert (loaded.predict(obs, deterministic=True)[0] == model.predict(obs, deterministic=True)[0]).all()
assert model.num_timesteps >= 1000 and model._n_updates >= 1 and loaded.num_timesteps == model.num_timesteps
print("trained, saved and loaded")
print("installed", [m for m in ("rl_zoo3", "optuna", "pandas", "matplotlib", "sb3_contrib") if importlib.util.find_spec(m)])
"""


@pytest.mark.slow
def test_the_wheel_without_extras_trains_saves_and_loads_and_names_the_extra_a_command_needs(tmp_path):
    start = time.perf_counter()
    # Build from a copy: setuptools reuses build/ in the source folder, where a deleted module would linger
    source = tmp_path / "source"
    source.mkdir()
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(REPO / name, source / name)
    pip = [sys.executable, "-m", "pip"]
    _run([*pip, "wheel", "--no-deps", "--quiet", "--wheel-dir", str(tmp_path / "dist"), str(source)])
    (wheel,) = (tmp_path / "dist").glob("sb3_reinforce-*.whl")

    # A fresh venv, not sharing this one's packages (--system-site-packages would bring rl_zoo3 along). This pip
    # installs into it (--python), so the venv needs no pip of its own. torch==2.13.0 first: on the project's
    # machines it resolves to the CPU wheel on disk; the project's own torch requirement could pull a CUDA build.
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = str(venv / "bin" / "python")
    # --no-compile: byte-compiling torch's thousands of modules is most of an install's time, and the test imports few
    _run([*pip, "--python", python, "install", "--quiet", "--no-compile", "torch==2.13.0"])
    _run([*pip, "--python", python, "install", "--quiet", "--no-compile", str(wheel)])  # no extras: the core only
    installed = time.perf_counter()

    out = _run([python, "-c", CORE_SCRIPT], cwd=tmp_path).stdout
    assert "trained, saved and loaded" in out
    assert "installed []" in out  # neither rl_zoo3 nor optuna, pandas, matplotlib, sb3-contrib

    for command, extra in [
        (["sb3-reinforce", "train", "--env", "CartPole-v1"], "zoo"),
        (["sb3-reinforce-zoo", "train", "--env", "CartPole-v1"], "zoo"),
        (["sb3-reinforce", "compare", "--env", "CartPole-v1"], "compare"),
    ]:
        result = subprocess.run([str(venv / "bin" / command[0]), *command[1:]], capture_output=True, text=True, cwd=tmp_path)
        # One line, naming the extra, and nothing else (no traceback)
        assert result.returncode == 1 and result.stdout == "" and result.stderr.count("\n") == 1, result.stderr
        assert result.stderr.startswith(f"{' '.join(command[:2])} needs the {extra} extra (rl_zoo3 ")
        assert result.stderr.endswith(f" not installed): pip install 'sb3-reinforce[{extra}]'\n")
    assert not (tmp_path / "logs").exists()  # failed before any work
    print(f"build and install {installed - start:.0f} s, checks {time.perf_counter() - installed:.0f} s")
