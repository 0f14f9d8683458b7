#!/bin/bash
# The issue-6 measurement: base vs SFT(bao behaviors) vs SFT(no behaviors) on function, intention, telepathy.
# One model per variant is fine-tuned on teacher episodes of the three envs mixed, then each model plays the
# first 10 test tasks of each env (seed 0, temperature 0.7, top-p 0.9, 256 tokens a turn). Training runs
# alone (two torch jobs of two threads each only slow each other on 2 cores); a model's three evaluations run
# at once, one thread each. Re-running skips finished steps and resumes an interrupted SFT run from its last
# complete checkpoint.
#
#   experiments/warmstart.sh [OUT_DIR]     (default runs/warmstart; about 4 h on a 2-core CPU)
set -euo pipefail
OUT=${1:-runs/warmstart}
ENVS=(function intention telepathy)
mkdir -p "$OUT/data" "$OUT/eval"

for variant in bao none; do
  mix="$OUT/data/mix-$variant.jsonl"
  if [ ! -f "$mix" ]; then
    for env in "${ENVS[@]}"; do
      bao data teacher "$env" --n 40 --behaviors "$variant" --out "$OUT/data/$env-$variant.jsonl"
    done
    for env in "${ENVS[@]}"; do cat "$OUT/data/$env-$variant.jsonl"; done > "$mix"
  fi
  [ -d "$OUT/sft-$variant/final" ] || bao sft --data "$mix" --out "$OUT/sft-$variant" --model smollm2-135m \
    --lr 2e-4 --epochs 3 --batch-size 1 --grad-accum 4 --save-steps 5 --seed 0
done

for run in sft-bao sft-none base; do
  model="$OUT/$run/final"
  [ "$run" = base ] && model=smollm2-135m
  pids=()
  for env in "${ENVS[@]}"; do
    [ -f "$OUT/eval/$run-$env/metrics.json" ] && continue
    OMP_NUM_THREADS=1 bao eval "$env" --policy hf --model "$model" --n 10 --seed 0 --batch-size 10 \
      --out "$OUT/eval/$run-$env" > "$OUT/eval/$run-$env.log" 2>&1 &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid"; done  # set -e: a failed evaluation stops the script
done
