#!/bin/bash
# What each estimator does on one env: one SFT warm start on the env's teacher episodes, then each algorithm
# trained from it with the same budget, task order, user seeds and sampling seeds, each evaluated on 40 test
# tasks x seeds 0,1 (the same episodes before and after, paired by task).
#
#   experiments/rl_compare.sh ENV [ALGOS] [BEHAVIORS]
#
#   ENV        intention (default algos grpo,bao,userrl,bao-paper), function or telepathy (default grpo,bao)
#   BEHAVIORS  bao (default) or none: the warm start's teacher episodes, with or without BAO's behaviors
#
# Runs go to runs/rl-ENV[-none] (checkpoints, not committed; RUNS=DIR to change), results to
# experiments/results/rl_ENV[_none] (small, committed). Re-running skips what is finished: the SFT run (resumed
# from its last checkpoint), the "before" evaluation and every algorithm already in the results' results.json,
# which keeps the warm start's sha256, so the runs can be spread over several sessions and machines.
#
# Sizes, chosen so that each algorithm's run, evaluation included, takes about an hour on 2 cores: 8 steps x
# (4 tasks x group 4), lr 1e-5 (full fine-tune), w 0 (the estimators and bao's regularizers are what differ, as
# in the paper's UserRL-vs-BAO comparison), at most
#   intention  8 turns of 160 tokens (the oracle uses 3.67 turns on average, one question per missing detail);
#   function   6 turns of 128 tokens (the heuristic needs 3.75 on average: search, query, answer);
#   telepathy  8 turns of 128 tokens (the heuristic needs 12.75, the 135M model lacks the world knowledge to
#              guess: this run shows what the estimators do to how it asks, not whether it can win).
set -euo pipefail
ENV=${1:?usage: experiments/rl_compare.sh intention|function|telepathy [ALGOS] [bao|none]}
BEHAVIORS=${3:-bao}
case "$ENV" in
  intention) DEFAULT_ALGOS=grpo,bao,userrl,bao-paper TURNS=8 TOKENS=160 ;;
  function) DEFAULT_ALGOS=grpo,bao TURNS=6 TOKENS=128 ;;
  telepathy) DEFAULT_ALGOS=grpo,bao TURNS=8 TOKENS=128 ;;
  *) echo "experiments/rl_compare.sh: unknown env '$ENV'; choose intention, function or telepathy" >&2; exit 2 ;;
esac
case "$BEHAVIORS" in
  bao) SUFFIX= ;;
  none) SUFFIX=-none ;;
  *) echo "experiments/rl_compare.sh: BEHAVIORS must be bao or none, got '$BEHAVIORS'" >&2; exit 2 ;;
esac
ALGOS=${2:-$DEFAULT_ALGOS}
OUT=${RUNS:-runs/rl-$ENV$SUFFIX}
mkdir -p "$OUT"
DATA="$OUT/$ENV-$BEHAVIORS.jsonl"
[ -f "$DATA" ] || bao data teacher "$ENV" --n 40 --behaviors "$BEHAVIORS" --out "$DATA"
[ -d "$OUT/sft-$BEHAVIORS/final" ] || bao sft --data "$DATA" --out "$OUT/sft-$BEHAVIORS" --model smollm2-135m \
  --lr 2e-4 --epochs 3 --batch-size 1 --grad-accum 4 --save-steps 5 --seed 0
python "$(dirname "$0")/rl_runs.py" --env "$ENV" --init "$OUT/sft-$BEHAVIORS/final" --algos "$ALGOS" \
  --steps 8 --max-turns "$TURNS" --max-new-tokens "$TOKENS" --lr 1e-5 --eval-n 40 --eval-seeds 0,1 \
  --out "$OUT/rl" --results "experiments/results/rl_${ENV}${SUFFIX//-/_}"
