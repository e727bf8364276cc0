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

With ``--envpool`` it measures instead EnvPool's version of the env against gymnasium's (issue 21: worth it only if the
env's step is a large share of the time), in a venv that has envpool (not a dependency of this project)::

    python -m venv /tmp/ep
    /tmp/ep/bin/pip install torch==2.13.0 stable-baselines3==2.9.2 "gymnasium[mujoco]==1.4.0" envpool tyro pyyaml
    PYTHONPATH=. /tmp/ep/bin/python benchmarks/profile_run.py --envpool   # docs/results/profile/envpool_Hopper-v5.json

(1) raw steps with random actions, 8 envs, one thread: gymnasium's ``env.unwrapped.step``, gymnasium's step through
the wrappers SB3 and gymnasium add (Monitor, TimeLimit, OrderEnforcing, PassiveEnvChecker), and EnvPool's
``step(actions, env_id)`` for all 8 envs and for 4 of them chosen at random at each call, an ended episode reset at
once with ``reset(env_id)`` as SB3's VecEnvs do; (2) short REINFORCE runs with the env's entry (read from the YAML)
on a SubsetDummyVecEnv and on :class:`EnvPoolSubsetVecEnv`, both under VecNormalize. Repeats are interleaved; the
table gives medians.
"""

import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tyro

sys.path.insert(0, str(Path(__file__).parent))
from throughput import machine

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
    """The table, as JSON (docs/tables.py's json kind); default docs/results/profile/ENV.json
    (with --envpool: docs/results/profile/envpool_ENV.json)"""
    envpool: bool = False
    """Instead of the profile: EnvPool's env against gymnasium's, raw steps and short REINFORCE runs"""
    envpool_steps: int = 20_000
    """With --envpool: env steps per raw-step measurement"""
    envpool_learn_steps: int = 30_000
    """With --envpool: env steps per REINFORCE run (0: no runs)"""
    repeats: int = 5
    """With --envpool: interleaved repeats of each measurement (REINFORCE runs: at most 2)"""


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
    """:return: throughput.py's versions and machine, with MuJoCo's version and the load when the run started"""
    import mujoco

    return {**machine(), "mujoco": mujoco.__version__, "load_average_at_start": os.getloadavg()}


# ---------------------------------------------------------------------------------------------------
# EnvPool against gymnasium (--envpool)
# ---------------------------------------------------------------------------------------------------


def envpool_subset_vec_env(env_id: str, n_envs: int, seed: int) -> Any:
    """
    :return: A minimal :class:`~sb3_reinforce.vec_env.SubsetVecEnv` on an EnvPool pool of ``n_envs`` envs (one
        thread), for timing only: SB3's VecEnv contract as REINFORCE and VecNormalize use it (an ended episode is
        reset in the same step, its last observation in ``terminal_observation``, ``TimeLimit.truncated``, Monitor's
        ``episode`` info), none of the attribute and method forwarding
    """
    import envpool
    import gymnasium as gym
    import numpy as np

    from sb3_reinforce.vec_env import SubsetVecEnv

    class EnvPoolSubsetVecEnv(SubsetVecEnv):
        def __init__(self) -> None:
            # EnvPool resets an ended env at its next step; this VecEnv resets it at once, with reset(env_id)
            self.pool = envpool.make(
                env_id, env_type="gymnasium", num_envs=n_envs, batch_size=n_envs, num_threads=1, seed=seed
            )
            super().__init__(n_envs, self.pool.observation_space, self.pool.action_space)
            self.returns, self.lengths = np.zeros(n_envs), np.zeros(n_envs, dtype=int)

        def reset(self) -> Any:
            self.n_calls += 1
            self.returns[:], self.lengths[:] = 0.0, 0
            return self.pool.reset()[0]

        def step_async(self, actions: np.ndarray) -> None:
            self.actions = actions

        def step_wait(self) -> Any:
            self.n_calls += 1
            ids = np.arange(self.num_envs) if self._subset is None else self._subset
            obs, rewards, terminated, truncated, _ = self.pool.step(np.asarray(self.actions, dtype=np.float64), ids)
            self.returns[ids] += rewards
            self.lengths[ids] += 1
            dones = terminated | truncated
            infos: list[dict[str, Any]] = [{} for _ in ids]
            for k in np.flatnonzero(dones):
                env = ids[k]
                episode = {"r": self.returns[env], "l": int(self.lengths[env]), "t": 0.0}
                truncated_only = bool(truncated[k] and not terminated[k])
                infos[k] = {"terminal_observation": obs[k].copy(), "TimeLimit.truncated": truncated_only, "episode": episode}
                self.returns[env], self.lengths[env] = 0.0, 0
            if dones.any():
                obs[dones] = self.pool.reset(ids[dones])[0]
            return obs, rewards.astype(np.float32), dones, infos

        def close(self) -> None:
            self.pool.close()

        def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
            return [None] * self.num_envs  # render_mode, the only attribute VecEnv and REINFORCE read

        def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
            raise NotImplementedError

        def env_method(self, method_name: str, *args: Any, indices: Any = None, **kwargs: Any) -> list[Any]:
            raise NotImplementedError

        def env_is_wrapped(self, wrapper_class: type, indices: Any = None) -> list[bool]:
            # EnvPool ends an episode at the env's max_episode_steps as a TimeLimit would (REINFORCE asks)
            return [issubclass(wrapper_class, gym.wrappers.TimeLimit)] * self.num_envs

    return EnvPoolSubsetVecEnv()


def _raw_steps(mode: str, env_id: str, n_envs: int, steps: int, seed: int) -> float:
    """:return: Seconds per env step of ``mode`` with random actions, resets included"""
    import gymnasium as gym
    import numpy as np

    rng = np.random.default_rng(seed)
    actions = rng.uniform(-1.0, 1.0, (4096, n_envs, *gym.make(env_id).action_space.shape))
    n_calls = steps // n_envs
    if mode.startswith("gymnasium"):
        from stable_baselines3.common.monitor import Monitor

        envs = [Monitor(gym.make(env_id)) for _ in range(n_envs)]
        if mode == "gymnasium (a)":
            envs = [env.unwrapped for env in envs]  # type: ignore[misc]
        for i, env in enumerate(envs):
            env.reset(seed=seed + i)
        start = time.perf_counter()
        for t in range(n_calls):
            for i, env in enumerate(envs):
                _, _, terminated, truncated, _ = env.step(actions[t % 4096, i])
                if terminated or truncated:
                    env.reset()
        return (time.perf_counter() - start) / (n_calls * n_envs)
    venv = envpool_subset_vec_env(env_id, n_envs, seed)
    venv.reset()
    n_subset = n_envs if mode == "envpool all" else n_envs // 2
    subsets = np.sort(np.array([rng.choice(n_envs, n_subset, replace=False) for _ in range(256)]), axis=1)
    start = time.perf_counter()
    for t in range(n_calls):
        venv._subset = subsets[t % 256]
        venv.step_async(actions[t % 4096, :n_subset])
        venv.step_wait()
    return (time.perf_counter() - start) / (n_calls * n_subset)


def _entry(env_id: str, config: str | None) -> dict[str, Any]:
    """:return: REINFORCE's arguments from the env's zoo entry (read here: rl_zoo3 need not be installed)"""
    import torch as th
    import yaml

    entries = yaml.safe_load(Path(config or ROOT / "zoo_configs" / "reinforce.yml").read_text())
    kwargs = {key: value for key, value in entries[env_id].items() if key not in ("n_timesteps", "normalize")}
    for key, value in kwargs.items():
        if isinstance(value, str) and value.startswith("lin_"):  # rl_zoo3's linear schedule
            kwargs[key] = lambda progress_remaining, initial=float(value[4:]): progress_remaining * initial
    kwargs["policy_kwargs"] = eval(kwargs.get("policy_kwargs", "dict()"), {"dict": dict, "nn": th.nn})
    return kwargs


def _learn_fps(mode: str, env_id: str, steps: int, seed: int, config: str | None) -> float:
    """:return: Env steps per second of a REINFORCE run with the env's entry, on gymnasium's or EnvPool's envs"""
    import torch as th
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    from sb3_reinforce import REINFORCE, SubsetDummyVecEnv

    th.set_num_threads(1)
    kwargs = _entry(env_id, config)
    n_envs = kwargs.pop("n_envs")
    if mode == "envpool":
        venv = envpool_subset_vec_env(env_id, n_envs, seed)
    else:
        venv = make_vec_env(env_id, n_envs=n_envs, seed=seed, vec_env_cls=SubsetDummyVecEnv)
    model = REINFORCE(env=VecNormalize(venv, norm_obs=True, norm_reward=False), seed=seed, device="cpu", **kwargs)
    start = time.perf_counter()
    model.learn(steps)
    return model.num_timesteps / (time.perf_counter() - start)


def envpool_table(args: Args) -> dict[str, Any]:
    """:return: The --envpool measurements: medians, and speed-ups against gymnasium's wrapped step and SubsetDummyVecEnv"""
    import statistics

    import envpool

    raw_modes = ["gymnasium (a)", "gymnasium (a)+(b)", "envpool all", "envpool subset"]
    raw: dict[str, list[float]] = {mode: [] for mode in raw_modes}
    fps: dict[str, list[float]] = {"subset_dummy": [], "envpool": []}
    for repeat in range(args.repeats):
        for mode in raw_modes:
            raw[mode].append(_raw_steps(mode, args.env, 8, args.envpool_steps, args.seed + repeat))
            print(f"# repeat {repeat} {mode}: {1e6 * raw[mode][-1]:.1f} µs per env step", file=sys.stderr, flush=True)
        if args.envpool_learn_steps > 0 and repeat < 2:
            for mode in fps:
                fps[mode].append(_learn_fps(mode, args.env, args.envpool_learn_steps, args.seed, args.config))
                print(f"# repeat {repeat} REINFORCE on {mode}: {fps[mode][-1]:.0f} steps/s", file=sys.stderr, flush=True)
    labels = {
        "gymnasium (a)": "gymnasium: env.unwrapped.step, 8 envs",
        "gymnasium (a)+(b)": "gymnasium: envs[i].step (Monitor, TimeLimit, OrderEnforcing, PassiveEnvChecker), 8 envs",
        "envpool all": "EnvPool: step(actions, env_id), all 8 envs",
        "envpool subset": "EnvPool: step(actions, env_id), 4 of 8 envs",
    }
    seconds = {mode: statistics.median(values) for mode, values in raw.items()}
    rows = [
        [labels[mode], f"{1e6 * value:.1f}", f"{1 / value:.0f}", f"{seconds['gymnasium (a)+(b)'] / value:.2f}x"]
        for mode, value in seconds.items()
    ]
    if args.envpool_learn_steps > 0:
        medians = {mode: statistics.median(values) for mode, values in fps.items()}
        for mode, label in (("subset_dummy", "SubsetDummyVecEnv"), ("envpool", "EnvPoolSubsetVecEnv")):
            value, what = medians[mode], f"REINFORCE {args.envpool_learn_steps // 1000}k steps on {label}, under VecNormalize"
            rows.append([what, f"{1e6 / value:.1f}", f"{value:.0f}", f"{value / medians['subset_dummy']:.2f}x"])
    return {
        "columns": ["measurement (1 thread)", "µs per env step (median)", "env steps/s", "speed-up"],
        "rows": rows,
        "raw_seconds_per_step": raw,
        "reinforce_fps": fps,
        "envpool": envpool.__version__,
    }


def main(args: Args) -> None:
    if args.envpool:
        out = Path(args.out or f"docs/results/profile/envpool_{args.env}.json")
        machine = _machine()
        result = envpool_table(args)
        result.update(
            command="PYTHONPATH=. /tmp/ep/bin/python " + " ".join(["benchmarks/profile_run.py", *sys.argv[1:]]),
            machine=machine,
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=1, ensure_ascii=False))
        from sb3_reinforce.report import markdown_table

        print(markdown_table(result["columns"], [list(map(str, row)) for row in result["rows"]]), f"\nwrote {out}", sep="\n")
        return
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
