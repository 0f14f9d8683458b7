"""The results table: one row per evaluation, in a stable order, every metric as its mean and 95% interval.

A metric an evaluation did not measure, or could not (`null` in metrics.json, e.g. the redundant rate of a run
without questions), reads "n/a".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bao.report.discover import Evaluation

METRIC_COLUMNS = ("score", "success", "pass@U-1", "U", "UR", "redundant_rate", "think_words", "invalid_rate",
                  "loophole")
NA = "n/a"


@dataclass(frozen=True)
class Cell:
    """A metric as shown: its mean, and its interval (empty when there is none)."""

    mean: str
    interval: str = ""


@dataclass(frozen=True)
class ResultRow:
    evaluation: Evaluation
    env: str
    method: str
    w: str
    step: str
    episodes: str
    metrics: dict[str, Cell]


def result_rows(evaluations: Sequence[Evaluation]) -> list[ResultRow]:
    """Rows sorted by env, method, w (unknown last) and training step."""
    ordered = sorted(evaluations, key=lambda e: (e.env, e.method, e.w is None, e.w or 0.0,
                                                 -1 if e.step is None else e.step, str(e.path)))
    return [ResultRow(evaluation=e, env=e.env, method=e.method, w=NA if e.w is None else f"{e.w:g}",
                      step="" if e.step is None else str(e.step), episodes=str(e.episodes),
                      metrics={name: format_estimate(e.metrics.get(name)) for name in METRIC_COLUMNS})
            for e in ordered]


def format_estimate(estimate: dict[str, Any] | None) -> Cell:
    """`{"mean", "low", "high"}` as text with three decimals; n/a where the mean is missing."""
    if not estimate or estimate.get("mean") is None:
        return Cell(NA)
    mean, low, high = estimate["mean"], estimate.get("low"), estimate.get("high")
    if low is None or high is None:
        return Cell(f"{mean:.3f}")
    return Cell(f"{mean:.3f}", f"[{low:.3f}, {high:.3f}]")
