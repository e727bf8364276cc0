#!/usr/bin/env bash
# The trials docs/zoo.md and docs/mujoco.md quote in their "what was tried" sections. Each trial file
# docs/results/trials/<name>.yml holds the entries it tries (zoo_configs/reinforce.yml's format); its runs go to
# docs/results/trials/<name>/<env>/ (<name><RUNS_SUFFIX>/ when RUNS_SUFFIX is set). The trial "entries" runs the
# shipped entries of zoo_configs/reinforce.yml, as the control of another trial on the same trial seeds. compare
# resumes a run whose result file came from the same entry, so an interrupted run of this script continues where it
# stopped.
#
#     bash benchmarks/trials.sh                # every trial below, one run at a time
#     bash benchmarks/trials.sh 'pendulum-*'   # the trials whose name matches this pattern
set -euo pipefail
cd "$(dirname "$0")/.."
SB3_REINFORCE=${SB3_REINFORCE:-sb3-reinforce}
PYTHON=${PYTHON:-python}
RESULTS=${RESULTS:-docs/results/trials}
PATTERN=${1:-*}
trial() {  # trial NAME ENV SEEDS EVAL_FREQ EVAL_EPISODES FINAL_EPISODES [more compare flags]
    local name=$1 env=$2 seeds=$3 config="docs/results/trials/$1.yml"
    [[ "$name" == entries ]] && config=zoo_configs/reinforce.yml  # the shipped entries, on trial seeds: a trial's control
    # shellcheck disable=SC2053  # $PATTERN is a glob
    [[ "$name" == $PATTERN ]] || return 0
    # shellcheck disable=SC2086  # $seeds is a list of words
    $PYTHON benchmarks/seeds.py trial $seeds  # trials tune on seeds 0-99 only (benchmarks/seeds.py)
    # shellcheck disable=SC2086  # $seeds is a list of words
    $SB3_REINFORCE compare --env "$env" --algos reinforce --seeds $seeds --eval-freq "$4" --n-eval-episodes "$5" \
        --final-eval-episodes "$6" --workers 1 --config "$config" --out-dir "$RESULTS/$name${RUNS_SUFFIX:-}" "${@:7}" ||
        echo "trial $name on $env had failures"
}
# MuJoCo: the template on the envs whose entries change it, and HalfCheetah's settings on Humanoid (seed 0, as mujoco.sh)
trial template HalfCheetah-v5 0 100000 5 10
trial template Swimmer-v5 0 100000 5 10
trial template Ant-v5 0 100000 5 10
trial template Humanoid-v5 "0 1 2" 100000 5 10  # the template was Humanoid's first entry, verified over 3 seeds
trial halfcheetah-settings Humanoid-v5 0 100000 5 10
# Pendulum-v1 and LunarLander-v3: 3 seeds, evaluated as in docs/zoo.md's verification
trial pendulum-lin Pendulum-v1 "0 1 2" 100000 10 100
trial pendulum-n8 Pendulum-v1 "0 1 2" 100000 10 100
trial pendulum-lr2e-3 Pendulum-v1 "0 1 2" 100000 10 100
trial pendulum-lr3e-3 Pendulum-v1 "0 1 2" 100000 10 100
trial lunarlander-value LunarLander-v3 "0 1 2" 250000 10 100
trial lunarlander-value-n32 LunarLander-v3 "0 1 2" 250000 10 100
# LunarLander-v3 with the time feature, 1M steps: the seeds and evaluations of the comparison in docs/benchmarks.md
trial lunarlander-timefeature LunarLander-v3 "0 1 2 3 4" 50000 10 100
# ... and at 3M steps, evaluated as the entry's verification in docs/zoo.md
trial lunarlander-timefeature-3m LunarLander-v3 "0 1 2 3 4" 250000 10 100
# Issue 17, MuJoCo seeds that stall or settle low: the time feature on the three envs, trial seeds 0-2
trial mujoco-timefeature Walker2d-v5 "0 1 2" 100000 5 10
trial mujoco-timefeature Hopper-v5 "0 1 2" 100000 5 10
trial mujoco-timefeature HalfCheetah-v5 "0 1 2" 100000 5 10
trial walker-halfcheetah-settings Walker2d-v5 "0 1 2" 100000 5 10
# ... and the three with the time-limit bootstrap off and the time feature on (exact returns of the rewards received)
trial mujoco-timefeature-nobootstrap HalfCheetah-v5 "0 1 2" 100000 5 10
trial mujoco-timefeature-nobootstrap Hopper-v5 "0 1 2" 100000 5 10
trial mujoco-timefeature-nobootstrap Walker2d-v5 "0 1 2" 100000 5 10
# ... and Hopper's and Walker2d's falls (benchmarks/episodes.py): returns that look the whole episode ahead
trial locomotion-gamma0999 Hopper-v5 "0 1 2" 100000 5 10
trial locomotion-gamma0999 Walker2d-v5 "0 1 2" 100000 5 10
# ... and the two entries with the class default's constant learning rate 3e-3 in place of lin_1e-3 (the defaults-suite
# trial with the value baseline did better on Hopper-v5 at 500k than the entry at 1M)
trial locomotion-lr3e-3 Hopper-v5 "0 1 2" 100000 5 10
trial locomotion-lr3e-3 Walker2d-v5 "0 1 2" 100000 5 10
# ... and its pre-registered follow-up (docs/mujoco.md, the rule written before these runs): trial seeds 3-7, each env's
# entry beside lr 3e-3 on the same seeds (RUNS_SUFFIX: into locomotion-lr3e-3-confirm/, apart from seeds 0-2's runs)
trial entries Hopper-v5 "3 4 5 6 7" 100000 5 10
RUNS_SUFFIX=-confirm trial locomotion-lr3e-3 Hopper-v5 "3 4 5 6 7" 100000 5 10
trial entries Walker2d-v5 "3 4 5 6 7" 100000 5 10
RUNS_SUFFIX=-confirm trial locomotion-lr3e-3 Walker2d-v5 "3 4 5 6 7" 100000 5 10
# Issues 17 and 22, which settings to start from on an env with no entry (docs/own_env.md): REINFORCE's class defaults
# against the MuJoCo template, on continuous envs of the development suite, trial seeds 0-2, the suite's 500k budget
trial own-env-defaults LunarLanderContinuous-v3 "0 1 2" 50000 10 20
trial own-env-template LunarLanderContinuous-v3 "0 1 2" 50000 10 20
trial own-env-defaults BipedalWalker-v3 "0 1 2" 50000 5 10
trial own-env-template BipedalWalker-v3 "0 1 2" 50000 5 10
# Issue 18, the LSTM policy on a velocity-masked env (docs/recurrent.md), trial seeds 0-2
# (NoVel envs have no reward_threshold: CartPole-v1's 475 is the one the issue's target uses), and rl_zoo3's RecurrentPPO
# entry on seed 0, the speed to beat (a later --algos replaces the first)
trial recurrent-novel CartPoleNoVel-v1 "0 1 2" 5000 5 20 --threshold 475
trial recurrent-novel-ppo_lstm CartPoleNoVel-v1 0 5000 5 20 --threshold 475 --algos ppo_lstm
# CartPole-v1's learning rate, 1e-2, in place of 3e-3
trial recurrent-novel-lr1e-2 CartPoleNoVel-v1 "0 1 2" 5000 5 20 --threshold 475
# ... and the alternative the SB3 maintainers suggest, frame stacking with an MLP: CartPole-v1's entry, and the LSTM
# trial's settings
trial framestack-novel CartPoleNoVel-v1 "0 1 2" 5000 5 20 --threshold 475
trial framestack-novel-value CartPoleNoVel-v1 "0 1 2" 5000 5 20 --threshold 475
# The LSTM on the velocity-masked Pendulum, Pendulum-v1's entry with the CartPoleNoVel-v1 trial's LSTM
trial recurrent-pendulum PendulumNoVel-v1 "0 1 2" 50000 10 100
# The entry on trial seeds 0-9, against the same with its learning rate annealed to 0 (lin_3e-3): report seed 1009
# solved the env and then swung between 171 and 500; the final evaluation takes 100 episodes, as the report's
trial recurrent-novel-hold CartPoleNoVel-v1 "0 1 2 3 4 5 6 7 8 9" 5000 5 100 --threshold 475
trial recurrent-novel-lin CartPoleNoVel-v1 "0 1 2 3 4 5 6 7 8 9" 5000 5 100 --threshold 475
