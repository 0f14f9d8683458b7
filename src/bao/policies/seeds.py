"""Per-turn sampling seeds, shared by every LLM policy (local or API) so that runs replay exactly."""

from __future__ import annotations

import hashlib


def turn_seed(seed: int, task_id: str, turn: int) -> int:
    """The sampling seed of one turn: same (seed, task, turn) => same draws, whatever the batch or the loop."""
    digest = hashlib.sha256(f"{seed}:{task_id}:{turn}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)
