"""`evaluate`: episodes are kept as they finish, an interrupted run resumes to the same result, and metrics.json
is strict JSON."""

from __future__ import annotations

import json

import pytest

from bao.core.types import read_jsonl
from bao.pipelines.evaluate import INCOMPLETE, EvalConfig, EvalOutputError, evaluate
from bao.policies.scripted import make_agent
from tests.conftest import needs_data

pytestmark = needs_data

CONFIG = EvalConfig(env="function", n=5, seeds=(0, 1), batch_size=4)


class Stop(Exception):
    """Raised by the progress callback to interrupt a run as a crash or Ctrl-C would."""


def _interrupt_after(k: int):
    done = []

    def progress(n: int) -> None:
        done.append(n)
        if sum(done) >= k:
            raise Stop

    return progress


def _strict(text: str) -> dict:
    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def _metrics(path) -> dict:
    return _strict((path / "metrics.json").read_text())["metrics"]


def test_an_interrupted_run_keeps_finished_episodes_and_is_marked_incomplete(tmp_path):
    with pytest.raises(Stop):
        evaluate(CONFIG, make_agent("random", "function"), tmp_path, progress=_interrupt_after(3))
    assert (tmp_path / INCOMPLETE).is_file() and not (tmp_path / "metrics.json").exists()
    assert len(list(read_jsonl(tmp_path / "trajectories.jsonl"))) == 3


def test_a_resumed_run_plays_only_the_missing_episodes_and_matches_an_uninterrupted_run(tmp_path):
    evaluate(CONFIG, make_agent("random", "function"), tmp_path / "whole")
    with pytest.raises(Stop):
        evaluate(CONFIG, make_agent("random", "function"), tmp_path / "cut", progress=_interrupt_after(6))
    reported = []
    result = evaluate(CONFIG, make_agent("random", "function"), tmp_path / "cut", progress=reported.append,
                      resume=True)
    assert reported[0] == 6 and sum(reported) == 10  # 6 found on disk, 4 played
    assert len(result.trajectories) == 10 and not (tmp_path / "cut" / INCOMPLETE).exists()
    whole, cut = (tmp_path / "whole" / "trajectories.jsonl").read_bytes(), (tmp_path / "cut" / "trajectories.jsonl")
    assert cut.read_bytes() == whole
    assert _metrics(tmp_path / "cut") == _metrics(tmp_path / "whole")


def test_resume_drops_a_line_cut_short_by_a_crash(tmp_path):
    with pytest.raises(Stop):
        evaluate(CONFIG, make_agent("random", "function"), tmp_path, progress=_interrupt_after(2))
    with (tmp_path / "trajectories.jsonl").open("a") as fh:
        fh.write('{"env": "function", "task_')
    result = evaluate(CONFIG, make_agent("random", "function"), tmp_path, resume=True)
    assert len(list(read_jsonl(tmp_path / "trajectories.jsonl"))) == len(result.trajectories) == 10


CHANGES = [{"seeds": (0, 2)}, {"n": 4}, {"max_turns": 3}, {"split": "train"}, {"env": "turtle"}]


@pytest.mark.parametrize("change", CHANGES)
def test_resume_refuses_a_run_recorded_with_other_settings(tmp_path, change):
    with pytest.raises(Stop):
        evaluate(CONFIG, make_agent("random", "function"), tmp_path, progress=_interrupt_after(2))
    other = EvalConfig(**{**vars(CONFIG), **change})
    with pytest.raises(EvalOutputError, match="other settings"):
        evaluate(other, make_agent("random", other.env), tmp_path, resume=True)
    assert len(list(read_jsonl(tmp_path / "trajectories.jsonl"))) == 2  # untouched


def test_resume_refuses_another_policy(tmp_path):
    with pytest.raises(Stop):
        evaluate(CONFIG, make_agent("random", "function"), tmp_path, progress=_interrupt_after(2))
    with pytest.raises(EvalOutputError, match="policy 'random' -> 'oracle'"):
        evaluate(CONFIG, make_agent("oracle", "function"), tmp_path, resume=True)


def test_without_resume_earlier_results_are_replaced(tmp_path):
    evaluate(CONFIG, make_agent("oracle", "function"), tmp_path)
    evaluate(EvalConfig(env="function", n=2), make_agent("random", "function"), tmp_path)
    assert len(list(read_jsonl(tmp_path / "trajectories.jsonl"))) == 2
    assert _strict((tmp_path / "metrics.json").read_text())["policy"] == "random"


def test_undefined_metrics_are_written_as_null(tmp_path):
    evaluate(EvalConfig(env="function", n=3), make_agent("answer-now", "function"), tmp_path)
    metrics = _metrics(tmp_path)  # answer-now asks nothing: the redundant rate has no questions to count
    assert metrics["redundant_rate"] == {"mean": None, "low": None, "high": None, "n": 0}
    assert metrics["score"]["mean"] is not None
