"""Find what a report can show under run directories, searched recursively.

- an evaluation: a directory with `metrics.json` (and `trajectories.jsonl`), written by `bao.pipelines.evaluate`;
- a training run: a directory with `rl_config.json` and `log.jsonl` (`bao train`). The evaluations in it
  (`eval-step-N/`; `eval-wW/` of a run trained for several w) are labelled with the run's algo (`ALGO-conditioned`
  for several w), w (the cost told in the prompt, else the run's) and step, and their turns are scored with the
  run's reward settings at that w, so the viewer shows the penalties training gave;
- a sweep: a directory with `pareto.json`. Its points name their evaluations (`eval_dir`, relative to the
  sweep), which take the sweep's method and w: the names the experiment itself compares.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bao.pipelines.evaluate import METRICS, TRAJECTORIES
from bao.pipelines.rl_config import RLConfig
from bao.rewards import RewardConfig

RL_CONFIG = "rl_config.json"
LOG = "log.jsonl"
PARETO = "pareto.json"
_EVAL_STEP = re.compile(r"eval-step-(\d+)")


@dataclass
class Evaluation:
    """One evaluation directory. `method` is what the tables and viewer call it (the policy's name, the training
    run's algo, or the sweep's method); `w` the effort cost when known; `step` the training step it evaluated."""

    path: Path
    env: str
    split: str
    policy: str
    method: str
    seeds: list[int]
    episodes: int
    metrics: dict[str, dict[str, Any] | None]
    w: float | None = None
    step: int | None = None
    reward: RewardConfig = field(default_factory=RewardConfig)

    @property
    def trajectories(self) -> Path:
        return self.path / TRAJECTORIES


@dataclass
class TrainingRun:
    """A `bao train` run directory: its settings and the `step` and `eval` records of its log."""

    path: Path
    config: dict[str, Any]
    steps: list[dict[str, Any]]
    evals: list[dict[str, Any]]

    @property
    def label(self) -> str:
        w, choices = self.config.get("w"), self.config.get("w_choices")
        cost = f"w in {{{choices}}}" if choices else f"w={w}"
        return f"{self.config.get('env', '?')} · {self.config.get('algo', '?')} · {cost}"


@dataclass
class Sweep:
    """A directory with `pareto.json` (format in `bao report --help`)."""

    path: Path
    data: dict[str, Any]

    @property
    def env(self) -> str:
        return str(self.data.get("env", "?"))


@dataclass
class Found:
    evaluations: list[Evaluation]
    training_runs: list[TrainingRun]
    sweeps: list[Sweep]


def discover(run_dirs: Sequence[Path]) -> Found:
    """Everything recognisable under `run_dirs`; a directory with nothing recognisable fails with one line."""
    eval_dirs: dict[Path, None] = {}  # dicts as ordered sets: a directory given twice is read once
    run_paths: dict[Path, None] = {}
    sweep_paths: dict[Path, None] = {}
    for run_dir in run_dirs:
        if not Path(run_dir).is_dir():
            raise ValueError(f"{run_dir}: no such directory")
        recognised = False
        for path, names in _walk(Path(run_dir)):
            for name, found in ((METRICS, eval_dirs), (PARETO, sweep_paths)):
                if name in names:
                    found[path] = None
                    recognised = True
            if RL_CONFIG in names and LOG in names:
                run_paths[path] = None
                recognised = True
        if not recognised:
            raise ValueError(f"{run_dir}: no evaluation ({METRICS}), training run ({RL_CONFIG} + {LOG}) or sweep "
                             f"({PARETO}) found in it")
    sweeps = [Sweep(path, _read_json(path / PARETO)) for path in sweep_paths]
    labels = _sweep_labels(sweeps)
    for path in labels:
        if (path / METRICS).is_file():
            eval_dirs[path] = None
    evaluations = [_evaluation(path, labels.get(path)) for path in eval_dirs]
    return Found(evaluations, [_training_run(path) for path in run_paths], sweeps)


def display_path(path: Path) -> str:
    """A path as the report names it: relative to the working directory when under it, else absolute."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path.resolve())


def _walk(root: Path) -> list[tuple[Path, set[str]]]:
    """(resolved directory, its file names) under `root`, in a stable order."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        out.append((Path(dirpath).resolve(), set(filenames)))
    return out


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: cannot read it ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object")
    return data


def _sweep_labels(sweeps: list[Sweep]) -> dict[Path, dict[str, Any]]:
    """Evaluation directory -> the sweep point that names it."""
    out = {}
    for sweep in sweeps:
        for point in sweep.data.get("points", []):
            if point.get("eval_dir"):
                out[(sweep.path / point["eval_dir"]).resolve()] = point
    return out


def _evaluation(path: Path, point: dict[str, Any] | None) -> Evaluation:
    data = _read_json(path / METRICS)
    missing = [key for key in ("env", "policy", "metrics") if key not in data]
    if missing:
        raise ValueError(f"{path / METRICS}: not an evaluation's metrics (no {', '.join(missing)})")
    evaluation = Evaluation(path=path, env=data["env"], split=data.get("split", "?"), policy=str(data["policy"]),
                            method=str(data["policy"]), seeds=list(data.get("seeds", [])),
                            episodes=int(data.get("episodes", 0)), metrics=data["metrics"])
    told = data.get("settings", {}).get("prompt_w")  # the effort cost written into the prompts, if any
    evaluation.w = told
    if (path.parent / RL_CONFIG).is_file():
        config = _rl_config(path.parent / RL_CONFIG)
        evaluation.method = f"{config.algo}-conditioned" if config.w_choices else config.algo
        evaluation.w = config.w if told is None else told
        evaluation.reward = dataclasses.replace(_reward_config(config, path.parent / RL_CONFIG), w=evaluation.w)
        match = _EVAL_STEP.fullmatch(path.name)
        evaluation.step = int(match.group(1)) if match else None
    if point is not None:
        evaluation.method = str(point.get("method", evaluation.method))
        evaluation.w = point.get("w", evaluation.w)
    return evaluation


def _rl_config(path: Path) -> RLConfig:
    """A run's settings; keys this version of bao does not know (an older or newer run) are left out."""
    known = {f.name for f in dataclasses.fields(RLConfig)}
    try:
        return RLConfig(**{k: v for k, v in _read_json(path).items() if k in known})
    except TypeError as exc:
        raise ValueError(f"{path}: not a bao train config ({exc})") from None


def _reward_config(config: RLConfig, path: Path) -> RewardConfig:
    try:
        return config.reward_config()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: bad reward settings ({exc})") from None


def _training_run(path: Path) -> TrainingRun:
    config = _read_json(path / RL_CONFIG)
    steps, evals = [], []
    for line in (path / LOG).read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:  # a line cut short by a run still writing, or killed mid-write
            continue
        if isinstance(record, dict) and record.get("event") == "step":
            steps.append(record)
        elif isinstance(record, dict) and record.get("event") == "eval":
            evals.append(record)
    return TrainingRun(path, config, steps, evals)
