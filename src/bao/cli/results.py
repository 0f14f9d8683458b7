"""Shared by `bao eval` and `bao demo --scripted`: checking `--n`, running an evaluation with a progress bar, and
printing its metrics as a table."""

from __future__ import annotations

import math
from pathlib import Path

from rich.markup import escape
from rich.table import Table

from bao.cli.console import console
from bao.cli.progress import EpisodeProgress


class UsageError(RuntimeError):
    """A mistake in the command line; the message says what to fix."""


def check_n(env: str, split: str, n: int | None) -> None:
    """`--n` beyond the split would silently run fewer tasks than asked for."""
    from bao.envs import make

    if n is None:
        return
    count = len(make(env).tasks(split))
    if n > count:
        raise UsageError(f"--n {n} is more than the {count} tasks of the {split} split of {env}")


def run_eval(config, policy, out: Path, resume: bool = False):
    from bao.envs import make
    from bao.pipelines.evaluate import evaluate

    total = len(make(config.env).tasks(config.split)[: config.n]) * len(config.seeds)
    with EpisodeProgress(console, f"{config.env} {policy.name}", total) as progress:
        return evaluate(config, policy, out, progress=progress.episodes, on_turns=progress.turns, resume=resume)


def seeds_text(result, seeds) -> str:
    """`48 episodes (seed 0)` / `96 episodes (seeds 0,1)`: what a table's numbers are averaged over."""
    word = "seed" if len(seeds) == 1 else "seeds"
    return f"{len(result.trajectories)} episodes ({word} {','.join(map(str, seeds))})"


METRIC_COLUMNS = ("score", "success", "pass@U-1", "pass@U-3", "pass@U-5", "U", "U_userrl", "UR", "turns",
                  "invalid_rate")


def print_results(rows: dict, title: str) -> None:
    table = Table(title=escape(title))
    table.add_column("metric")
    for name in rows:
        table.add_column(escape(name), justify="right")
    for col in METRIC_COLUMNS:
        table.add_row(col, *(_cell(m[col]) for m in rows.values()))
    console.print(table)
    console.print("mean ± half-width of the 95% CI (n/a: nothing to measure); U counts answers (BAO paper), "
                  "U_userrl questions and answers")


def _cell(estimate) -> str:
    if not math.isfinite(estimate.mean):
        return "n/a"
    return f"{estimate.mean:.2f} ± {(estimate.high - estimate.low) / 2:.2f}"
