#!/usr/bin/env bash
# Verify the MuJoCo entries of zoo_configs/reinforce.yml: each env, 3 seeds (5 for Hopper and HalfCheetah), the
# entry's budget (1M steps), one run
# at a time. Results go to docs/results/mujoco/<env>/ (summary.md, curves.csv, curves.png, one JSON per run).
# compare reuses a run whose result file came from the same entry, so an interrupted run of this script resumes.
#
#     bash benchmarks/mujoco.sh [env ...]        # default: every MuJoCo env below
set -euo pipefail
cd "$(dirname "$0")/.."
ENVS=("$@")
if [ ${#ENVS[@]} -eq 0 ]; then
    ENVS=(InvertedPendulum-v5 Hopper-v5 Reacher-v5 InvertedDoublePendulum-v5 Walker2d-v5 Swimmer-v5 HalfCheetah-v5 Ant-v5 Humanoid-v5)
fi
SB3_REINFORCE=${SB3_REINFORCE:-sb3-reinforce}
for env in "${ENVS[@]}"; do
    case "$env" in Hopper-v5 | HalfCheetah-v5) seeds="0 1 2 3 4" ;; *) seeds="0 1 2" ;; esac
    # shellcheck disable=SC2086  # $seeds is a list of words
    $SB3_REINFORCE compare --env "$env" --algos reinforce --seeds $seeds --eval-freq 100000 --n-eval-episodes 5 \
        --final-eval-episodes 10 --workers 1 --out-dir docs/results/mujoco || echo "compare on $env had failures"
done
