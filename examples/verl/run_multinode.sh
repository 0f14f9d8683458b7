#!/usr/bin/env bash
# The same run on NNODES nodes of 8 GPUs (default 2), on a Ray cluster that is already up:
#   head:    ray start --head --port=6379
#   workers: ray start --address=HEAD_IP:6379
# bao[verl] must be installed on every node (verl imports the plugin in every worker), and the UserRL data must
# be at BAO_DATA_DIR on every node (the config hands the variable to every Ray worker), as must the exported
# parquet files at DATA (Ray places the trainer on any node). Run this on the head:
#   BAO_DATA_DIR=/shared/userrl NNODES=2 examples/verl/run_multinode.sh [hydra overrides]
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${BAO_DATA_DIR:?set BAO_DATA_DIR to the UserRL data folder (holding gyms/ and splits/)}"
export BAO_DATA_DIR
NNODES=${NNODES:-2}
DATA=${DATA:-$PWD/runs/verl/function}   # absolute, and on every node (shared file system)
MODEL=${MODEL:-Qwen/Qwen3-4B}

python -m bao.integrations.verl.check
bao export verl --env function --split train --out "$DATA" --overwrite
bao export verl --env function --split test --out "$DATA" --overwrite

# Same global batch (128 tasks x 8 episodes) over 8*NNODES GPUs; one agent-loop worker per GPU.
RAY_ADDRESS=${RAY_ADDRESS:-auto} python -m verl.trainer.main_ppo \
    --config-path="$PWD/examples/verl" --config-name=bao_qwen3_4b \
    actor_rollout_ref.model.path="$MODEL" \
    data.train_files="$DATA/train.parquet" data.val_files="$DATA/test.parquet" \
    trainer.nnodes="$NNODES" \
    actor_rollout_ref.rollout.agent.num_workers=$((8 * NNODES)) \
    "$@"
