"""Learning curves of a training run, saved under the report's `figures/` as PNG (shown in the page) and SVG.

One panel per headline step metric of `log.jsonl` against the step, with the run's test-split evaluations
(`eval` records) as points on the panels they share. (A sweep's Pareto and Pass@U-k figures are drawn by
`bao.pipelines.pareto.draw`, the same figures `bao pareto` writes.)

Drawn on `matplotlib.figure.Figure` directly (no pyplot, so no global state or GUI backend) and saved without
creator or date metadata, so that nothing in the files points outside the report.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from bao.report.discover import TrainingRun

CURVES = ("episode/score", "episode/success", "episode/U", "episode/redundant_rate", "loss/policy")
_SVG_METADATA = {"Creator": None, "Date": None, "Format": None, "Type": None}
NEEDS_MATPLOTLIB = "bao report draws its figures with matplotlib: pip install 'bao[plot]'"


def learning_curves(run: TrainingRun, folder: Path, name: str) -> str:
    """One panel per metric of `CURVES` against the step; returns the PNG's path relative to the report."""
    fig = _figure(13, 6.5)
    axes = fig.subplots(2, 3).flatten()
    steps = [record.get("step") for record in run.steps]
    for ax, metric in zip(axes, CURVES):
        ax.plot(steps, [_value(record.get(metric)) for record in run.steps], marker=".", label="train (rollouts)")
        key = metric.partition("/")[2]
        evals = [record for record in run.evals if key in record and metric.startswith("episode/")]
        if evals:
            ax.plot([r.get("step") for r in evals], [_value(r.get(key)) for r in evals], "s--", color="tab:red",
                    label="test (eval)")
        ax.set_title(metric)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    axes[-1].axis("off")
    fig.suptitle(run.label)
    return _save(fig, folder, name)


def _figure(width: float, height: float) -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ValueError(NEEDS_MATPLOTLIB) from None
    return Figure(figsize=(width, height), layout="constrained")


def _save(fig: Any, folder: Path, name: str) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    fig.savefig(folder / f"{name}.png", dpi=110, metadata={"Software": None})
    fig.savefig(folder / f"{name}.svg", metadata=_SVG_METADATA)
    return f"{folder.name}/{name}.png"


def _value(value: Any) -> float:
    """A logged number, NaN (a gap in the line) where it is missing or null."""
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else math.nan
