"""What the trajectory viewer shows of an episode: per turn the reasoning, the action, the reply, the reward of
each shaping component and the flags behind them.

Components and flags come from `bao.rewards.turn_rewards` and `turn_flags`, the functions training scores
turns with (`bao.pipelines.rl_data.to_episode` returns the same rows; it is not called here because it also
needs the token record, which scripted and API policies do not have), under the evaluation's reward settings.
Long texts are cut at `TEXT_LIMIT` characters and an evaluation keeps at most `limit` episodes, so that the
viewer's data stay light enough for a browser.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from bao.core.types import Trajectory, Turn
from bao.rewards import COMPONENTS, RewardConfig, turn_flags, turn_rewards

TEXT_LIMIT = 4000
OVERTHINK_FLAGS = ("loop", "restate", "over_budget")


def read_episodes(path: Path, reward: RewardConfig, limit: int) -> tuple[list[dict[str, Any]], int]:
    """The viewer's record of the first `limit` episodes of a trajectories file (`write_jsonl`'s format), and how
    many the file holds (the lines past the limit are counted, not parsed)."""
    if not path.is_file():
        return [], 0
    shown, total = [], 0
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            total += 1
            if len(shown) < limit:
                shown.append(episode_view(Trajectory.from_dict(json.loads(line)), reward))
    return shown, total


def episode_view(traj: Trajectory, reward: RewardConfig) -> dict[str, Any]:
    """One episode as plain JSON data (texts cut to `TEXT_LIMIT`, non-finite numbers as null)."""
    turns = [_turn_view(turn, flags, components)
             for turn, flags, components in zip(traj.turns, turn_flags(traj.turns, reward), turn_rewards(traj, reward))]
    prompt = next((m.get("content", "") for m in traj.messages if m.get("role") == "user"), "")
    return {
        "task": traj.task_id,
        "seed": traj.seed,
        "success": bool(traj.success),
        "score": _number(traj.score),
        "R": _number(traj.R),
        "U": traj.U,
        "stop": traj.stop_reason,
        "prompt": _cut(prompt),
        "shaped": _number(sum(t["shaped"] or 0.0 for t in turns)),
        "turns": turns,
    }


def _turn_view(turn: Turn, flags: dict[str, bool], components: dict[str, float]) -> dict[str, Any]:
    return {
        "index": turn.index,
        "kind": turn.kind,
        "content": _cut(turn.content),
        "reasoning": _cut(turn.reasoning or ""),
        "reply": _cut(turn.observation),
        "error": _cut(turn.error),
        "user": bool(turn.user_involved),
        "components": {name: _number(components[name]) for name in COMPONENTS},
        "shaped": _number(sum(components[name] for name in COMPONENTS)),
        "flags": {
            "redundant": flags["redundant"],
            "overthink": [name for name in OVERTHINK_FLAGS if flags[name]],
            "invalid": flags["invalid"],
        },
    }


def _cut(text: str) -> str:
    if len(text) <= TEXT_LIMIT:
        return text
    return text[:TEXT_LIMIT] + f" … [{len(text) - TEXT_LIMIT} more characters cut]"


def _number(value: float) -> float | None:
    return round(float(value), 4) if math.isfinite(value) else None
