"""Small run directories made with bao's own code: two evaluations of scripted agents, a training run (its
config and log written by hand, its evaluations played by scripted agents) and a sweep that names them."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from bao.core.types import read_jsonl, write_jsonl
from bao.pipelines.evaluate import EvalConfig, evaluate
from bao.pipelines.rl_config import RLConfig
from bao.policies.scripted import make_agent
from bao.report.build import build_report
from tests.conftest import needs_data

INJECTED = "<script>alert('injected')</script> & </pre>"
TRAIN_W = 0.05
REFERENCE = "scripted-random"  # the sweep's name for the evaluation of the `random` agent


def _eval(env: str, agent: str, n: int, out: Path) -> None:
    evaluate(EvalConfig(env=env, n=n, seeds=(0, 1)), make_agent(agent, env), out)


def _inject(path: Path) -> None:
    """Put markup into the first episode's reasoning, as a model could write it."""
    trajectories = list(read_jsonl(path))
    trajectories[0].turns[0].reasoning = INJECTED
    write_jsonl(path, trajectories)


def _training_run(run: Path) -> None:
    config = RLConfig(env="function", algo="bao", w=TRAIN_W, steps=6, eval_n=4, out=run)
    run.mkdir(parents=True)
    (run / "rl_config.json").write_text(json.dumps(dataclasses.asdict(config), default=str))
    records = [{"event": "start", "step": 0}, {"event": "eval", "step": 0, "score": 0.0, "success": 0.0, "U": 1.0,
                                                "redundant_rate": None}]
    for step in range(1, 7):
        records.append({"event": "step", "step": step, "episode/score": 0.1 * step, "episode/success": 0.1 * step,
                        "episode/U": 3 - 0.2 * step, "episode/redundant_rate": None if step == 1 else 0.5 / step,
                        "loss/policy": 0.01 * (-1) ** step, "reward/task": 0.1 * step})
    records.append({"event": "eval", "step": 6, "score": 0.75, "success": 0.75, "U": 1.5, "redundant_rate": 0.1})
    (run / "log.jsonl").write_text("\n".join(json.dumps(r) for r in records) + '\n{"event": "step", "st')
    _eval("function", "answer-now", 4, run / "eval-step-0")
    _eval("function", "heuristic", 4, run / "eval-step-6")


def _sweep(sweep: Path, runs: Path) -> None:
    def metrics(path: Path) -> dict:
        return json.loads((path / "metrics.json").read_text())["metrics"]

    trained = runs / "train" / "function-bao" / "eval-step-6"
    reference = runs / "eval" / "function-random"
    points = [
        {"method": "bao", "w": TRAIN_W, "seed": 0, "kind": "trained", "eval_dir": "../train/function-bao/eval-step-6",
         "metrics": metrics(trained)},
        {"method": "bao", "w": 0.2, "seed": 0, "kind": "trained", "eval_dir": "missing/eval",
         "metrics": {"U": {"mean": 0.8, "low": 0.5, "high": 1.1, "n": 8},
                     "score": {"mean": 0.5, "low": 0.2, "high": 0.8, "n": 8}}},
        {"method": REFERENCE, "w": None, "seed": None, "kind": "reference", "eval_dir": "../eval/function-random",
         "metrics": metrics(reference)},
    ]
    sweep.mkdir(parents=True)
    (sweep / "pareto.json").write_text(json.dumps({
        "env": "function", "reference_point": {"U": 16.0, "score": 0.0}, "points": points,
        "frontiers": {"bao": {"non_dominated": [0, 1], "hypervolume": 9.5},
                      REFERENCE: {"non_dominated": [2], "hypervolume": 2.25}},
        "pass_at_u": {"bao": [0.2, 0.5, 0.7, 0.75, 0.75, 0.75, 0.75, 0.75, 0.75],
                      REFERENCE: [0.1, 0.1, 0.2, 0.2, 0.2, 0.25, 0.25, 0.25, 0.25]},
    }))


@pytest.fixture(scope="session")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if needs_data.args[0]:
        pytest.skip(needs_data.kwargs["reason"])
    root = tmp_path_factory.mktemp("runs")
    _eval("function", "heuristic", 4, root / "eval" / "function-heuristic")
    _eval("function", "random", 4, root / "eval" / "function-random")
    _eval("intention", "random", 3, root / "eval" / "intention-random")
    _inject(root / "eval" / "function-heuristic" / "trajectories.jsonl")
    _training_run(root / "train" / "function-bao")
    _sweep(root / "sweep", root)
    return root


@pytest.fixture(scope="session")
def report(runs: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of every run above; returns its directory."""
    out = tmp_path_factory.mktemp("report") / "report"
    build_report([runs], out)
    return out


def read_js_data(path: Path) -> dict:
    """The JSON a report's data/*.js file assigns."""
    text = path.read_text(encoding="utf-8")
    return json.loads(text[text.index(" = {") + 3 : text.rindex(";")])
