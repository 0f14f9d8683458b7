"""`bao pareto` on the tiny model and the clue env: every point of the sweep (and the conditioned policy at each w)
lands in pareto.json with its frontier, the figures are written, a rerun recomputes nothing, and bad inputs fail
in one line before any model loads."""

from __future__ import annotations

import argparse
import json

import pytest

pytest.importorskip("torch")

from bao.agent.effort import effort_sentence  # noqa: E402
from bao.cli import pareto as pareto_cli  # noqa: E402
from bao.core.types import read_jsonl  # noqa: E402
from tests.conftest import needs_data  # noqa: E402
from tests.pipelines.clue_env import ClueEnv  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread", "clue_env")
TRAINING = ["steps=1", "tasks_per_step=2", "group_size=2", "max_new_tokens=8", "temperature=1.0", "top_p=1.0",
            "micro_batch=4"]


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    pareto_cli.add_parser(parser.add_subparsers(dest="command"))
    return pareto_cli.run(parser.parse_args(["pareto", *argv]))


def _argv(warm_start, out) -> list[str]:
    return ["--env", "clue", "--algos", "grpo", "--w", "0,0.5", "--seeds", "0", "--conditioned", "grpo", "--model",
            str(warm_start), "--no-base", "--reference", f"warm={warm_start}", "--eval-n", "2", "--out", str(out),
            *TRAINING]


def test_a_sweep_writes_every_point_its_frontiers_and_figures_and_a_rerun_recomputes_nothing(
        warm_start, tmp_path, monkeypatch, capsys):
    out = tmp_path / "sweep"
    assert _run(_argv(warm_start, out)) == 0
    first = capsys.readouterr().out
    assert "clue has no scripted agents" in first and first.count(": started") == 5
    result = json.loads((out / "pareto.json").read_text())

    assert set(result) == {"env", "reference_point", "points", "frontiers", "pass_at_u"}
    assert result["env"] == "clue" and result["reference_point"] == {"U": 3.0, "score": 0.0}
    points = result["points"]
    assert [(p["method"], p["w"], p["seed"], p["kind"]) for p in points] == [
        ("warm", None, None, "reference"), ("grpo", 0.0, 0, "trained"), ("grpo", 0.5, 0, "trained"),
        ("grpo-conditioned", 0.0, 0, "trained"), ("grpo-conditioned", 0.5, 0, "trained")]
    assert points[1]["eval_dir"] == "runs/grpo-w0-s0/eval-step-1"
    for p in points:
        assert (out / p["eval_dir"] / "metrics.json").is_file()
        assert set(p["metrics"]["score"]) == {"mean", "low", "high", "n"} and p["metrics"]["score"]["n"] == 2
    assert set(result["frontiers"]) == set(result["pass_at_u"]) == {"warm", "grpo", "grpo-conditioned"}
    for method, frontier in result["frontiers"].items():
        assert frontier["non_dominated"] and all(points[i]["method"] == method for i in frontier["non_dominated"])
        assert 0 <= frontier["hypervolume"] <= 3.0  # score <= 1 over U in [0, 3]
        assert len(result["pass_at_u"][method]) == 9
    for stem in ("pareto_score_U", "pareto_success_UR", "pass_at_u"):
        assert (out / f"{stem}.png").stat().st_size > 0 and (out / f"{stem}.svg").stat().st_size > 0

    conditioned = json.loads((out / "runs" / "grpo-conditioned-s0" / "rl_config.json").read_text())
    assert conditioned["w_choices"] == "0,0.5" and conditioned["steps"] == 2  # the sweep's 2 runs x 1 step
    for p in points[3:]:
        sentence = effort_sentence(p["w"], ClueEnv.spec.user_kinds)
        assert all(t.messages[1]["content"].endswith(sentence) for t in read_jsonl(out / p["eval_dir"] /
                                                                                   "trajectories.jsonl"))

    from bao.pipelines import pareto
    from bao.pipelines.rl import Trainer

    def refuse(*args, **kwargs):
        raise AssertionError("a finished point was recomputed")

    monkeypatch.setattr(Trainer, "run", refuse)
    monkeypatch.setattr(pareto, "evaluate", refuse)
    monkeypatch.setattr("bao.policies.hf.load_hf_policy", refuse)
    assert _run(_argv(warm_start, out)) == 0
    second = capsys.readouterr().out
    assert second.count("skipped (done)") == 5 and "started" not in second
    assert json.loads((out / "pareto.json").read_text()) == result


@pytest.mark.parametrize("change, message", [
    ({"--algos": "grpo,ppo"}, "--algos: 'ppo' is unknown"),
    ({"--w": "0,-0.1"}, "--w: every effort cost must be a number >= 0"),
    ({"--seeds": "0,x"}, "--seeds must be integers separated by commas"),
    ({"--env": "nowhere"}, "unknown environment 'nowhere'"),
    ({"--init": "no/such/dir"}, "--init no/such/dir: no such directory"),
    ({"--reference": "sft=no/such/dir"}, "--reference sft=no/such/dir: not an HF model directory"),
    ({"--eval-n": "9"}, "--eval-n must be between 1 and the 4 test tasks of clue"),
    ({"override": "w=0.1"}, "bao pareto sets w itself (use --w)"),
    ({"--conditioned": "bao"}, "--conditioned: 'bao' is not one of --algos (grpo)"),
])
def test_bad_inputs_fail_in_one_line_before_any_model_loads(change, message, tmp_path, monkeypatch):
    from bao.pipelines.rl import Trainer

    def refuse(*args, **kwargs):
        raise AssertionError("a model was loaded")

    monkeypatch.setattr(Trainer, "__init__", refuse)
    monkeypatch.setattr("bao.policies.hf.load_hf_policy", refuse)
    flags = {"--env": "clue", "--algos": "grpo", "--w": "0", "--out": str(tmp_path / "out"), "--no-base": None,
             **{k: v for k, v in change.items() if k != "override"}}
    argv = [part for flag, value in flags.items() for part in (flag, value) if part is not None]
    argv += [change["override"]] if "override" in change else []
    with pytest.raises((ValueError, KeyError)) as caught:
        _run(argv)
    text = caught.value.args[0]
    assert message in text and "\n" not in text


@needs_data
def test_the_plan_measures_against_the_scripted_agents_and_rejects_unknown_ones(tmp_path):
    from bao.pipelines.pareto import SweepConfig, plan

    config = SweepConfig(env="function", out=tmp_path, algos=["grpo", "bao"], ws=[0.0, 0.1], base=False,
                         conditioned=["bao"])
    sweep = plan(config)
    assert [(p.method, p.kind, p.eval_dir.as_posix()) for p in sweep.points[:3]] == [
        ("answer-now", "reference", "reference/answer-now"), ("heuristic", "reference", "reference/heuristic"),
        ("oracle", "reference", "reference/oracle")]
    assert [p.method for p in sweep.points[3:]] == ["grpo", "grpo", "bao", "bao", "bao-conditioned", "bao-conditioned"]
    assert sweep.points[-1].run.w_choices == "0,0.1" and sweep.points[-1].run.steps == 2 * sweep.template.steps
    with pytest.raises(ValueError, match="--scripted: no agent 'genius' for function"):
        plan(SweepConfig(env="function", out=tmp_path, algos=["bao"], ws=[0.0], base=False, scripted=["genius"]))
