#!/usr/bin/env bash
# The single-seed trials docs/mujoco.md quotes in "What was tried": each trial file in docs/results/trials/ holds
# the entries it tries, and its runs go to docs/results/trials/<file name>/<env>/. Same budget and evaluations as
# benchmarks/mujoco.sh; compare resumes a run whose result file came from the same entry.
#
#     bash benchmarks/mujoco_trials.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SB3_REINFORCE=${SB3_REINFORCE:-sb3-reinforce}
trial() {  # trial FILE ENV...
    local file=$1
    shift
    for env in "$@"; do
        $SB3_REINFORCE compare --env "$env" --algos reinforce --seeds 0 --eval-freq 100000 --n-eval-episodes 5 \
            --final-eval-episodes 10 --workers 1 --config "docs/results/trials/$file.yml" \
            --out-dir "docs/results/trials/$file" || echo "trial $file on $env failed"
    done
}
trial template HalfCheetah-v5 Swimmer-v5 Ant-v5
trial halfcheetah-settings Humanoid-v5
