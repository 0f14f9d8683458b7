#!/usr/bin/env bash
# The published BAO setting (bao_qwen3_4b.yaml) on one node of 8 GPUs, in a venv with `pip install 'bao[verl]'`.
#   BAO_DATA_DIR=/path/to/userrl examples/verl/run_1node.sh [hydra overrides, e.g. algorithm.bao.w=0.05]
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${BAO_DATA_DIR:?set BAO_DATA_DIR to the UserRL data folder (holding gyms/ and splits/)}"
export BAO_DATA_DIR
DATA=${DATA:-$PWD/runs/verl/function}   # absolute: Ray actors do not run in this directory
MODEL=${MODEL:-Qwen/Qwen3-4B}

python -m bao.integrations.verl.check                  # verl loads bao's plugin, or say why not
bao export verl --env function --split train --out "$DATA" --overwrite
bao export verl --env function --split test --out "$DATA" --overwrite

python -m verl.trainer.main_ppo \
    --config-path="$PWD/examples/verl" --config-name=bao_qwen3_4b \
    actor_rollout_ref.model.path="$MODEL" \
    data.train_files="$DATA/train.parquet" data.val_files="$DATA/test.parquet" \
    "$@"
