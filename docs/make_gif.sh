#!/usr/bin/env bash
# The README's GIF: train REINFORCE with its CartPole-v1 entry, record 200 steps with rl_zoo3's record_video,
# and turn the video into a GIF (moviepy, 300 px wide, 15 fps).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
sb3-reinforce train --env CartPole-v1 --seed 0 --log-folder "$work/logs" --no-progress-bar
sb3-reinforce-zoo record_video --env CartPole-v1 -f "$work/logs" -n 200 -o "$work/video" --seed 0
python -c "
import glob, sys
from moviepy import VideoFileClip
clip = VideoFileClip(glob.glob(sys.argv[1] + '/*.mp4')[0]).resized(width=300)
clip.write_gif('docs/images/cartpole.gif', fps=15, logger=None)
" "$work/video"
