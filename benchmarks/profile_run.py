"""
Where the training time of a REINFORCE run goes (issue 21, "Sampling at the limit"), for the table in docs/mujoco.md.

    python benchmarks/profile_run.py                    # Hopper-v5, 200k steps: docs/results/profile/Hopper-v5.json

The model and its envs are built from the env's entry in zoo_configs/reinforce.yml by ``sb3_reinforce.zoo.make_model``,
as ``sb3-reinforce compare`` and rl_zoo3 build them (a SubsetDummyVecEnv under VecNormalize, the entry's wrappers),
and trained with 1 torch thread for ``--n-timesteps`` env steps. No evaluation runs. The training time is split into

  env           the MuJoCo env's own ``step`` (physics and reward): ``env.unwrapped.step`` of every env
  wrappers      the gymnasium wrappers around it (Monitor, TimeLimit, OrderEnforcing, PassiveEnvChecker, ...):
                ``envs[i].step`` minus ``env``
  resets        ``envs[i].reset`` (the env's reset and its wrappers'), called when an episode ends
  vec_env       the VecEnv and VecNormalize: the step REINFORCE makes (its env stepper's ``step``, a subset step
                through the wrapper chain) minus the three above
  forward       the policy forward during collection: ``policy.get_distribution`` and the sampling of the actions
  update        the policy update: ``REINFORCE.train`` minus ``critic``
  critic        the critic's fit: ``REINFORCE._fit_critic``
  rest          the rest of ``learn()``: the collection loop's bookkeeping, the episode buffer, callbacks, logging

Each part is measured by perf_counter accumulators wrapped around those methods on the instances (not cProfile, whose
per-call overhead inflates the Python-heavy parts); a timer counts the time of its call minus that of the timed calls
inside it, and ``rest`` is the wall time of ``learn()`` minus all the others. The timers call the same methods with
the same arguments: the trained parameters are those of an unprofiled run (tests/test_profile_run.py checks it). Their
own cost, measured on a no-op and multiplied by the number of timed calls, is printed and saved beside the table.
"""

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tyro

ROOT = Path(__file__).resolve().parents[1]

#: The parts of the training time, in the table's order, and their labels
PARTS = {
    "env": "env step (MuJoCo physics and reward)",
    "wrappers": "gymnasium wrappers",
    "resets": "env resets (wrappers included)",
    "vec_env": "VecEnv and VecNormalize",
    "forward": "policy forward in collection",
    "update": "policy update",
    "critic": "critic fit",
    "rest": "rest of learn() (buffers, callbacks, bookkeeping)",
}
COLUMNS = ["part", "seconds", "share %", "µs per env step", "timed calls"]


@dataclass
class Args:
    env: str = "Hopper-v5"
    """Gymnasium env id; its entry in the config is trained"""
    n_timesteps: int = 200_000
    """Env steps to train for"""
    seed: int = 0
    """Seed of the run"""
    config: str | None = None
    """The zoo YAML (default: the packaged zoo_configs/reinforce.yml)"""
    out: str | None = None
    """The table, as JSON (docs/tables.py's json kind); default docs/results/profile/ENV.json"""


class Profile:
    """
    Exclusive-time accumulators: :meth:`timed` wraps a function so that each call adds its wall time, minus the time
    of the timed calls made inside it, to a part.
    """

    def __init__(self) -> None:
        self.seconds = dict.fromkeys(PARTS, 0.0)
        self.calls = dict.fromkeys(PARTS, 0)
        self._inner: list[float] = []  # for each timed call in progress, the time of the timed calls inside it

    def timed(self, part: str, function: Callable[..., Any], outermost_only: bool = False) -> Callable[..., Any]:
        """
        :param part: The part the calls' time goes to
        :param function: The function to time
        :param outermost_only: Time only the calls made outside every other timed call (the policy's forward is
            timed in collection; inside ``train`` it is part of the update)
        :return: The function, timed; it takes the same arguments and returns the same values
        """

        def timed_function(*args: Any, **kwargs: Any) -> Any:
            if outermost_only and self._inner:
                return function(*args, **kwargs)
            self._inner.append(0.0)
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - start
                self.seconds[part] += elapsed - self._inner.pop()
                self.calls[part] += 1
                if self._inner:
                    self._inner[-1] += elapsed

        return timed_function


def instrument(model: Any) -> Profile:
    """
    Wrap the methods of ``model``, its policy and its envs that :data:`PARTS` names in timers, on the instances.

    :param model: A REINFORCE model whose VecEnv (under its wrappers) is a DummyVecEnv, before ``learn()``
    :return: The profile the timers add to
    :raise ValueError: For a VecEnv whose envs are not in this process (a SubprocVecEnv)
    """
    from stable_baselines3.common.vec_env import DummyVecEnv

    profile = Profile()
    venv = model.env.unwrapped
    if not isinstance(venv, DummyVecEnv):
        raise ValueError(f"the envs must run in this process (a DummyVecEnv) to be timed, got {type(venv).__name__}")
    for env in venv.envs:
        # A wrapper calls self.env.step: an instance attribute of the innermost env is what the wrapper above it calls
        env.unwrapped.step = profile.timed("env", env.unwrapped.step)
        env.step = profile.timed("wrappers", env.step)
        env.reset = profile.timed("resets", env.reset)

    choose_env_stepper = model._choose_env_stepper

    def timed_env_stepper(env: Any) -> Any:  # learn() chooses the stepper in _setup_learn: time the one it chooses
        stepper = choose_env_stepper(env)
        stepper.step = profile.timed("vec_env", stepper.step)
        return stepper

    model._choose_env_stepper = timed_env_stepper
    model.policy.get_distribution = profile.timed("forward", model.policy.get_distribution, outermost_only=True)
    # get_distribution returns the policy's one distribution object, updated in place: its sampling is timed there
    distribution = model.policy.action_dist
    distribution.get_actions = profile.timed("forward", distribution.get_actions, outermost_only=True)
    model.train = profile.timed("update", model.train)
    model._fit_critic = profile.timed("critic", model._fit_critic)
    return profile


def timer_cost(n_calls: int = 200_000) -> float:
    """:return: Seconds a timer adds to one call, measured on a no-op (a nested call, as most timed calls are)"""
    profile = Profile()
    timed = profile.timed("rest", lambda: None)
    outer = profile.timed("env", lambda: [timed() for _ in range(n_calls)])
    plain = lambda: None  # noqa: E731

    start = time.perf_counter()
    _ = [plain() for _ in range(n_calls)]
    baseline = time.perf_counter() - start
    start = time.perf_counter()
    outer()
    return max(time.perf_counter() - start - baseline, 0.0) / n_calls


def train(env_id: str, n_timesteps: int, seed: int = 0, config: str | None = None, profiled: bool = True) -> dict[str, Any]:
    """
    Build REINFORCE from the zoo entry of ``env_id`` and train it, with 1 torch thread.

    :param profiled: Whether to time the parts (:func:`instrument`)
    :return: ``model``, ``profile`` (None if not profiled), ``seconds`` (the wall time of ``learn()``),
        ``cpu_seconds`` (the process's CPU time in it: less than ``seconds`` when other processes share the cores) and
        the ``wrappers`` of the first env, outermost first
    """
    import torch as th

    from sb3_reinforce.zoo import make_model

    th.set_num_threads(1)
    with tempfile.TemporaryDirectory(prefix="profile-run-") as log_folder:
        model = make_model("reinforce", env_id, seed=seed, config=config, log_folder=log_folder, device="cpu")
        wrappers, env = [], model.env.unwrapped.envs[0]
        while env is not env.unwrapped:
            wrappers.append(type(env).__name__)
            env = env.env
        profile = instrument(model) if profiled else None
        start, cpu_start = time.perf_counter(), time.process_time()
        model.learn(n_timesteps)
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    return {"model": model, "profile": profile, "seconds": seconds, "cpu_seconds": cpu_seconds, "wrappers": wrappers}


def table(profile: Profile, seconds: float, num_timesteps: int, wrappers: list[str]) -> dict[str, Any]:
    """
    :param profile: The timers after ``learn()``
    :param seconds: The wall time of ``learn()``
    :param num_timesteps: The env steps taken
    :param wrappers: The wrappers' class names, for the label of their row
    :return: ``columns`` and ``rows`` (one per part, then the total); numbers formatted
    """
    parts = dict(profile.seconds)
    parts["rest"] = seconds - sum(value for part, value in parts.items() if part != "rest")
    labels = dict(PARTS, wrappers=f"gymnasium wrappers ({', '.join(wrappers)})")
    rows = [
        [
            labels[part],
            f"{value:.1f}",
            f"{100 * value / seconds:.1f}",
            f"{1e6 * value / num_timesteps:.1f}",
            profile.calls[part] if part != "rest" else "",
        ]
        for part, value in parts.items()
    ]
    rows.append(["total (learn)", f"{seconds:.1f}", "100.0", f"{1e6 * seconds / num_timesteps:.1f}", ""])
    return {"columns": COLUMNS, "rows": rows, "shares": {part: 100 * value / seconds for part, value in parts.items()}}


def _machine() -> dict[str, Any]:
    import gymnasium
    import mujoco
    import stable_baselines3
    import torch

    commit = subprocess.run(["git", "describe", "--always", "--dirty", "--abbrev=7"], capture_output=True, text=True, cwd=ROOT)
    return {
        "commit": commit.stdout.strip() or None,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "stable_baselines3": stable_baselines3.__version__,
        "gymnasium": gymnasium.__version__,
        "mujoco": mujoco.__version__,
        "cpu_count": os.cpu_count(),
        "torch_threads": 1,
        "load_average_at_start": os.getloadavg(),
    }


def main(args: Args) -> None:
    out = Path(args.out or f"docs/results/profile/{args.env}.json")
    machine = _machine()
    run = train(args.env, args.n_timesteps, args.seed, args.config)
    model, profile = run["model"], run["profile"]
    result = table(profile, run["seconds"], model.num_timesteps, run["wrappers"])
    n_timed_calls = sum(profile.calls.values())
    overhead = n_timed_calls * timer_cost()
    result.update(
        {
            "command": "python " + " ".join(["benchmarks/profile_run.py", *sys.argv[1:]]),
            "env": args.env,
            "seed": args.seed,
            "num_timesteps": model.num_timesteps,
            "fps": model.num_timesteps / run["seconds"],
            "seconds": run["seconds"],
            "cpu_seconds": run["cpu_seconds"],
            "timed_calls": n_timed_calls,
            "timer_overhead_seconds": overhead,
            "machine": machine,
        }
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1, ensure_ascii=False))

    from sb3_reinforce.report import markdown_table

    print(markdown_table(result["columns"], [list(map(str, row)) for row in result["rows"]]))
    print(
        f"\n{model.num_timesteps} env steps in {run['seconds']:.1f} s ({result['fps']:.0f} steps/s, {run['cpu_seconds']:.1f} "
        f"CPU s); {n_timed_calls} timed calls, whose timers cost about {overhead:.1f} s "
        f"({100 * overhead / run['seconds']:.1f}% of the total)\nwrote {out}"
    )


if __name__ == "__main__":
    main(tyro.cli(Args))
