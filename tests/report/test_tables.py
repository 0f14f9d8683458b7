"""The results table: estimates as mean and interval, n/a where undefined, rows in a stable order."""

from __future__ import annotations

from pathlib import Path

from bao.report.discover import Evaluation
from bao.report.tables import Cell, format_estimate, result_rows


def test_an_estimate_reads_as_mean_and_interval_and_a_missing_one_as_n_a():
    assert format_estimate({"mean": 0.5, "low": 0.25, "high": 0.75, "n": 4}) == Cell("0.500", "[0.250, 0.750]")
    assert format_estimate({"mean": 0.5, "low": None, "high": None}) == Cell("0.500")
    assert format_estimate({"mean": None, "low": None, "high": None, "n": 0}) == Cell("n/a")
    assert format_estimate(None) == Cell("n/a")


def _evaluation(method: str, w: float | None, step: int | None = None) -> Evaluation:
    return Evaluation(path=Path(f"/runs/{method}-{w}-{step}"), env="function", split="test", policy=method,
                      method=method, seeds=[0], episodes=2, metrics={}, w=w, step=step)


def test_rows_are_ordered_by_method_then_w_with_unknown_w_last_then_step():
    rows = result_rows([_evaluation("bao", None), _evaluation("bao", 0.2), _evaluation("bao", 0.05, 10),
                        _evaluation("bao", 0.05, 0), _evaluation("answer-now", None)])
    assert [(r.method, r.w, r.step) for r in rows] == [("answer-now", "n/a", ""), ("bao", "0.05", "0"),
                                                         ("bao", "0.05", "10"), ("bao", "0.2", ""), ("bao", "n/a", "")]
    assert rows[0].metrics["score"] == Cell("n/a")
