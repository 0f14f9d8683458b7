"""The parquet files verl's trainer reads (`data.train_files`, `data.val_files`): one row per task and user seed.

A row holds what verl's `RLHFDataset` expects and what bao's agent loop needs to replay the episode:

- `prompt`: the chat messages the model starts from, as the model sees them (`bao.agent.prompt.chat_messages`:
  the tool schema in the system prompt), so that verl's length filter (`data.max_prompt_length`) measures the
  real prompt; the agent loop checks it against the task and refuses a stale export;
- `agent_name`: `bao`, the agent loop that plays it;
- `data_source`: `bao/ENV`, which verl uses to group its validation metrics;
- `extra_info`: `index` (the row), `env`, `split`, `task_id`, and `seed`, the simulated user's seed; the n
  samples verl draws of a row share task and seed, so they form one GRPO group as in `bao train`.

Several `seeds` give each task one row per seed: the same task with users that answer differently.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bao.agent.prompt import chat_messages
from bao.envs.registry import make
from bao.pipelines.teacher_data import replacing

AGENT_NAME = "bao"


def export_rows(env: str, split: str, seeds: Sequence[int] = (0,), n: int | None = None) -> list[dict[str, Any]]:
    """The rows of `split` (its first `n` tasks, all when None), one per task and seed, in task order."""
    tasks = make(env).tasks(split)
    if not tasks:
        raise ValueError(f"{env} has no {split} tasks")
    rows = []
    for task in tasks[:n]:
        for seed in seeds:
            rows.append({
                "data_source": f"bao/{env}",
                "agent_name": AGENT_NAME,
                "prompt": chat_messages(task.prompt),
                "extra_info": {"index": len(rows), "env": env, "split": split, "task_id": task.id, "seed": seed},
            })
    return rows


def export(env: str, split: str, out: str | Path, seeds: Sequence[int] = (0,), n: int | None = None) -> Path:
    """Write `OUT/SPLIT.parquet` (atomically) and return its path."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(out) / f"{split}.parquet"
    rows = export_rows(env, split, seeds, n)
    with replacing(path) as tmp:
        pq.write_table(pa.Table.from_pylist(rows), tmp)
    return path
