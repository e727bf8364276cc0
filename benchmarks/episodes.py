"""
What the trained policies of a comparison do in an episode: its return, its length, whether it ended by termination
(a fall, for the MuJoCo walkers) or at the time limit, and how far the body moved forward. A return alone does not say
whether a Hopper stands still for 1000 steps or hops forward and falls at step 300; this does (docs/mujoco.md).

    python benchmarks/episodes.py docs/results/report/entries/Hopper-v5/runs/reinforce_seed*.json \\
        --out docs/results/report/episodes/Hopper-v5.json

Each argument is a run's result file from ``sb3-reinforce compare``. The run's folder (``run_dir`` in the file: the
model and its VecNormalize statistics, which are not committed) must be on this machine, relative to the current
directory. The policy acts deterministically, as in the comparison's evaluations, on the entry's env (its wrappers and
frozen VecNormalize statistics), env seeds 0 to ``--episodes`` - 1. The forward distance is the change of the root's x
position (``qpos[0]``) from the reset to the start of the episode's last step (the VecEnv resets the env within that
step, so its end is not seen), for envs that have one (MuJoCo's).
"""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch as th
import tyro

from sb3_reinforce.report import markdown_table

COLUMNS = ["algo", "seed", "final eval", "return (mean)", "length (mean)", "ended by termination", "forward distance (mean)"]


@dataclass
class Args:
    results: tyro.conf.Positional[list[Path]]
    """Result files of ``sb3-reinforce compare`` runs (``<out-dir>/<env>/runs/<algo>_seed<seed>.json``)"""
    episodes: int = 5
    """Deterministic episodes per run, env seeds 0 to episodes - 1"""
    out: Path | None = None
    """Also write the table as JSON (docs/tables.py's ``json`` kind)"""


def run_episodes(result: dict, episodes: int) -> list[tuple[float, int, bool, float | None]]:
    """:return: Each episode's return, length, whether it terminated, and the forward distance (None without qpos)"""
    from rl_zoo3.utils import ALGOS

    from sb3_reinforce.zoo import make_env  # registers reinforce in rl_zoo3's ALGOS

    algo, env_id = result["algo"], result["spec"]["env"]
    model_path = Path(result["run_dir"]) / f"{env_id}.zip"
    if not model_path.is_file():
        raise SystemExit(f"{model_path} does not exist: the run's folder must be on this machine (it is not committed)")
    env, _ = make_env(algo, env_id, seed=0, config=result.get("config"), n_envs=1, trained_agent=str(model_path))
    if hasattr(env, "training"):  # VecNormalize: frozen statistics, raw rewards
        env.training, env.norm_reward = False, False
    model = ALGOS[algo].load(model_path, device="cpu")
    unwrapped = env.get_attr("unwrapped")[0]  # the bare env, under the VecEnv's wrappers and the gymnasium ones
    rows = []
    for episode in range(episodes):
        env.seed(episode)
        obs = env.reset()
        start_x = float(unwrapped.data.qpos[0]) if hasattr(unwrapped, "data") else None
        state, episode_start, total, length, last_x = None, np.ones(1, dtype=bool), 0.0, 0, start_x
        while True:
            action, state = model.predict(obs, state=state, episode_start=episode_start, deterministic=True)
            last_x = float(unwrapped.data.qpos[0]) if start_x is not None else None  # before a reset can move it
            obs, reward, done, infos = env.step(action)
            total, length, episode_start = total + float(reward[0]), length + 1, done
            if done[0]:
                terminated = not infos[0].get("TimeLimit.truncated", False)
                break
        rows.append((total, length, terminated, None if start_x is None else last_x - start_x))
    env.close()
    return rows


def main(args: Args) -> None:
    th.set_num_threads(1)
    rows = []
    for path in args.results:
        result = json.loads(path.read_text())
        episodes = run_episodes(result, args.episodes)
        returns, lengths, ended, distances = zip(*episodes, strict=True)
        rows.append(
            [
                result["algo"],
                str(result["seed"]),
                f"{result['curve'][-1][2]:.1f}",
                f"{np.mean(returns):.1f}",
                f"{np.mean(lengths):.0f}",
                f"{sum(ended)}/{len(ended)}",
                "—" if distances[0] is None else f"{np.mean(distances):.2f}",
            ]
        )
        print(" | ".join(rows[-1]), flush=True)
    print(markdown_table(COLUMNS, rows))
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"columns": COLUMNS, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main(tyro.cli(Args))
