#!/bin/bash
# What each estimator does on intention: one SFT(bao) warm start on intention's teacher episodes, then grpo,
# bao, userrl and bao-paper trained from it with the same budget, task order, user seeds and sampling seeds,
# each evaluated on the 40 test tasks x seeds 0,1 (same episodes before and after, paired by task).
#
# Sizes (chosen so that each algorithm's run, evaluation included, takes about an hour on 2 cores):
# 8 steps x (4 tasks x group 4), at most 8 turns of at most 160 tokens, lr 1e-5 (full fine-tune), w 0 (the
# estimators and bao's regularizers are what differ, as in the paper's UserRL-vs-BAO comparison).
#
#   experiments/rl_intention.sh [OUT_DIR] [ALGOS]   (default runs/rl-intention, grpo,bao,userrl,bao-paper)
#
# Re-running skips what is finished: the SFT run (resumed from its last checkpoint), the "before" evaluation
# and every algorithm already in experiments/results/rl_intention/results.json (committed), so the four runs
# can be spread over several sessions.
set -euo pipefail
OUT=${1:-runs/rl-intention}
ALGOS=${2:-grpo,bao,userrl,bao-paper}
mkdir -p "$OUT"
[ -f "$OUT/intention-bao.jsonl" ] || bao data teacher intention --n 40 --behaviors bao --out "$OUT/intention-bao.jsonl"
[ -d "$OUT/sft-bao/final" ] || bao sft --data "$OUT/intention-bao.jsonl" --out "$OUT/sft-bao" --model smollm2-135m \
  --lr 2e-4 --epochs 3 --batch-size 1 --grad-accum 4 --save-steps 5 --seed 0
python "$(dirname "$0")/rl_runs.py" --env intention --init "$OUT/sft-bao/final" --algos "$ALGOS" \
  --steps 8 --max-turns 8 --max-new-tokens 160 --lr 1e-5 --eval-n 40 --eval-seeds 0,1 \
  --out "$OUT/rl" --results experiments/results/rl_intention
