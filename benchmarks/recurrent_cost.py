"""
What full backpropagation through whole episodes costs: the time of one REINFORCE update and the process's peak memory,
for an LSTM policy against the MLP one, as episodes grow to 1000 steps and beyond (docs/recurrent.md).

    python benchmarks/recurrent_cost.py --out docs/results/recurrent/cost.json

Each (policy, episode length) runs in a fresh process with 1 torch thread: ``n_episodes`` episodes of exactly that
length on an env whose step costs nothing, collected, then ``--updates`` updates timed one by one (the median is
reported: collection is not timed). With ``baseline="value"`` an update is the policy step and the critic's fit
(``n_critic_updates`` passes); both run the LSTM over every episode from its start. Peak memory is the process's
maximum resident set size, and "extra" its growth over the same process before the first update.
"""

import json
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import tyro


@dataclass
class Args:
    lengths: list[int] = field(default_factory=lambda: [100, 300, 1000, 3000])
    """Episode lengths (every episode lasts exactly this many steps)"""
    policies: list[str] = field(default_factory=lambda: ["MlpPolicy", "MlpLstmPolicy"])
    """Policies to compare"""
    lstm_hidden_size: int = 64
    """Hidden size of the LSTMs (sb3-contrib's default is 256)"""
    n_episodes: int = 8
    """Episodes per batch"""
    baselines: list[str] = field(default_factory=lambda: ["none", "value"])
    """REINFORCE's baselines: "none" times the policy step alone; with "value" the critic's fit is in the update too,
    and a recurrent critic's minibatches are whole episodes (fewer, longer ones than the MLP critic's 64 steps)"""
    updates: int = 3
    """Updates timed per configuration"""
    out: str = "docs/results/recurrent/cost.json"
    """The table, as JSON (docs/tables.py's json kind)"""


def measure(spec: dict) -> dict:
    import gymnasium as gym
    import numpy as np
    import torch as th

    from sb3_reinforce import REINFORCE, SubsetDummyVecEnv

    th.set_num_threads(1)

    class FixedLength(gym.Env):
        def __init__(self):
            self.observation_space = gym.spaces.Box(-1.0, 1.0, (4,), np.float32)
            self.action_space = gym.spaces.Discrete(2)
            self.t = 0

        def reset(self, *, seed=None, options=None):
            super().reset(seed=seed)
            self.t = 0
            return np.zeros(4, np.float32), {}

        def step(self, action):
            self.t += 1
            return np.full(4, self.t / spec["length"], np.float32), float(action), self.t >= spec["length"], False, {}

    env = SubsetDummyVecEnv([lambda: gym.wrappers.TimeLimit(FixedLength(), spec["length"] + 1)] * spec["n_episodes"])
    policy_kwargs = dict(net_arch=dict(pi=[64, 64], vf=[64, 64]))
    if "Lstm" in spec["policy"]:
        policy_kwargs["lstm_hidden_size"] = spec["lstm_hidden_size"]
    model = REINFORCE(
        spec["policy"], env, n_episodes=spec["n_episodes"], baseline=spec["baseline"], policy_kwargs=policy_kwargs, seed=0
    )
    _, callback = model._setup_learn(10**9, None)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    seconds = []
    for _ in range(spec["updates"]):
        assert model.collect_rollouts(model.env, callback, model.rollout_buffer)
        start = time.perf_counter()
        model.train()
        seconds.append(time.perf_counter() - start)
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"seconds": statistics.median(seconds), "peak_mb": rss_after / 1024, "extra_mb": (rss_after - rss_before) / 1024}


def main(args: Args) -> None:
    rows, mlp_seconds = [], {}
    for baseline in args.baselines:
        for length in args.lengths:
            for policy in args.policies:
                spec = dict(length=length, policy=policy, n_episodes=args.n_episodes, baseline=baseline)
                spec.update(updates=args.updates, lstm_hidden_size=args.lstm_hidden_size)
                output = subprocess.run(
                    [sys.executable, __file__, "--worker", json.dumps(spec)], check=True, capture_output=True, text=True
                ).stdout
                result = json.loads(output.strip().splitlines()[-1])
                if policy == "MlpPolicy":
                    mlp_seconds[baseline, length] = result["seconds"]
                ratio = result["seconds"] / mlp_seconds.get((baseline, length), float("nan"))
                timing = [f"{result['seconds']:.3f}", f"{ratio:.1f}x", f"{result['peak_mb']:.0f}", f"{result['extra_mb']:.0f}"]
                rows.append([baseline, policy, length, args.n_episodes * length, *timing])
                print(rows[-1], flush=True)
    table = {
        "columns": [
            "baseline",
            "policy",
            "episode length",
            "batch steps",
            "s per update (median)",
            "vs MlpPolicy",
            "peak MB",
            "extra MB",
        ],
        "rows": rows,
        "command": "python " + " ".join(["benchmarks/recurrent_cost.py", *sys.argv[1:]]),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(table, indent=1))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        print(json.dumps(measure(json.loads(sys.argv[2]))))
    else:
        main(tyro.cli(Args))
