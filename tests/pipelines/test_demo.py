"""The main job end to end on the tiny model: every stage writes its artefacts, a rerun keeps them."""

import dataclasses
import json

import pytest

from bao.pipelines.demo import QUICK, headline_rows, run_demo
from bao.policies.tiny import save_tiny_model
from tests.conftest import needs_data

pytestmark = [pytest.mark.usefixtures("one_torch_thread"), needs_data]

TINY = dataclasses.replace(QUICK, name="tiny", teacher_episodes=4, sft_steps=1, ws=(0.0, 0.5), rl_steps=1,
                           tasks_per_step=1, group_size=2, max_turns=2, max_new_tokens=6, eval_n=2)


def test_every_stage_writes_its_artefacts_and_a_rerun_redoes_nothing(tmp_path):
    model = save_tiny_model(tmp_path / "tiny")
    lines = []
    result = run_demo(TINY, tmp_path / "demo", str(model), lines.append)

    out = tmp_path / "demo"
    assert (out / "teacher.jsonl").stat().st_size > 0
    assert (out / "sft" / "final" / "config.json").is_file()
    pareto = json.loads((out / "pareto" / "pareto.json").read_text())
    assert result.pareto == pareto
    methods = {p["method"] for p in pareto["points"]}
    assert methods == {"answer-now", "heuristic", "oracle", "base", "init", "bao"}
    assert sorted(p["w"] for p in pareto["points"] if p["method"] == "bao") == [0.0, 0.5]
    assert (out / "pareto" / "pareto_score_U.png").is_file() and (out / "pareto" / "pareto_score_U.svg").is_file()
    assert result.report.is_file() and "bao report" in result.report.read_text()
    assert set(json.loads((out / "demo.json").read_text())["seconds"]) == {
        "teacher episodes", "SFT warm start", "RL and evaluations", "report"}

    labels = [label for label, _ in headline_rows(pareto)]
    assert labels[:5] == ["answer-now", "heuristic", "oracle", "base", "init"]
    assert labels[5:] == ["bao w=0", "bao w=0.5"]

    again = []
    run_demo(TINY, out, str(model), again.append)
    assert "== teacher episodes: done earlier, kept" in again and "== SFT warm start: done earlier, kept" in again
    assert sum("skipped (done)" in line for line in again) == len(pareto["points"])
