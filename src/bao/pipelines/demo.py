"""`bao demo`: the main job end to end, on the embedded model and a CPU.

teacher episodes -> SFT warm start -> RL from the warm start at each effort cost w (with `bao pareto`'s sweep,
which also evaluates the scripted agents, the base model and the warm start on the same test episodes) ->
frontier (`pareto.json` and its plots) -> static HTML report. Every stage writes into one directory and skips
what is already there, so an interrupted demo resumes where it stopped (SFT and RL from their last checkpoint).

Two sizes: `QUICK` (the default, under 30 minutes on 2 cores: a smoke-sized run that shows every stage and
every artefact, whose numbers are too small to compare methods) and `FULL` (`--full`, the sizes behind the
README's frontier: several hours, resumable across sessions).
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bao.pipelines.pareto import SCRIPTED_REFERENCES, SweepConfig, plan, run_sweep

Report = Callable[[str], None]


@dataclass(frozen=True)
class DemoSizes:
    """How big each stage is. Intention is the env where the embedded 135M model learns (see docs/sft.md)."""

    name: str
    env: str = "intention"
    teacher_episodes: int = 32  # scripted teacher episodes (only the successful ones are kept)
    sft_steps: int = 6  # optimizer steps of 4 examples
    sft_lr: float = 2e-4
    algos: tuple[str, ...] = ("bao",)
    ws: tuple[float, ...] = (0.0, 0.3)
    conditioned: tuple[str, ...] = ()  # algorithms that also train one policy for every w (`bao pareto --conditioned`)
    rl_steps: int = 2
    tasks_per_step: int = 2
    group_size: int = 4
    rl_lr: float = 1e-5
    max_turns: int = 5  # of RL and evaluation (the teacher plays the env's own limit)
    max_new_tokens: int = 96
    eval_n: int = 8  # test tasks of every evaluation
    eval_seeds: tuple[int, ...] = (0,)

    def describe(self) -> str:
        seeds = ",".join(map(str, self.eval_seeds))
        conditioned = f" + conditioned {'/'.join(self.conditioned)}" if self.conditioned else ""
        return (f"{self.name} sizes on {self.env}: {self.teacher_episodes} teacher episodes, SFT {self.sft_steps} "
                f"steps, RL {'/'.join(self.algos)}{conditioned} at w "
                f"{', '.join(f'{w:g}' for w in self.ws)} ({self.rl_steps} steps of {self.tasks_per_step} x "
                f"{self.group_size} episodes), at most {self.max_turns} turns of {self.max_new_tokens} tokens, "
                f"evaluated on {self.eval_n} test tasks x seeds {seeds}")


QUICK = DemoSizes("quick")
FULL = DemoSizes("full", teacher_episodes=40, sft_steps=30, algos=("grpo", "userrl", "bao-paper", "bao"),
                 ws=(0.0, 0.2), conditioned=("bao",), rl_steps=4, tasks_per_step=4, max_turns=6, max_new_tokens=128,
                 eval_n=40, eval_seeds=(0, 1))

# The headline table: what each method achieves and what it costs the user.
HEADLINE = ("score", "success", "U", "UR", "redundant_rate", "think_words", "invalid_rate")


@dataclass
class DemoResult:
    pareto: dict[str, Any]  # what `pareto/pareto.json` holds
    report: Path
    seconds: dict[str, float]  # per stage


def run_demo(sizes: DemoSizes, out: Path, model: str, report: Report = print) -> DemoResult:
    """Run (or finish) every stage into `out`; `report` gets one line per stage and per sweep point."""
    out = Path(out)
    config = _sweep_config(sizes, out, model)
    plan(dataclasses.replace(config, init=None))  # every setting checked before the first stage (no warm start yet)
    out.mkdir(parents=True, exist_ok=True)
    seconds: dict[str, float] = {}

    def stage(name: str, done: bool, work: Callable[[], Any]) -> None:
        if done:
            report(f"== {name}: done earlier, kept")
            return
        report(f"== {name}")
        start = time.perf_counter()
        work()
        seconds[name] = round(time.perf_counter() - start, 1)
        report(f"== {name}: {seconds[name]:.0f} s")

    data = out / "teacher.jsonl"
    stage("teacher episodes", data.is_file(), lambda: _teacher(sizes, data))
    warm_start = out / "sft"
    stage("SFT warm start", (warm_start / "final" / "config.json").is_file(),
          lambda: _sft(sizes, data, warm_start, model))
    pareto: dict[str, Any] = {}
    stage("RL and evaluations", False, lambda: pareto.update(run_sweep(plan(config), report)))
    report_dir = out / "report"
    stage("report", False, lambda: _report(out, report_dir))
    (out / "demo.json").write_text(json.dumps({"sizes": dataclasses.asdict(sizes), "seconds": seconds}, indent=2))
    return DemoResult(pareto, report_dir / "index.html", seconds)


def _sweep_config(sizes: DemoSizes, out: Path, model: str) -> SweepConfig:
    overrides = [f"steps={sizes.rl_steps}", f"tasks_per_step={sizes.tasks_per_step}",
                 f"group_size={sizes.group_size}", f"lr={sizes.rl_lr}", f"max_turns={sizes.max_turns}",
                 f"max_new_tokens={sizes.max_new_tokens}"]
    return SweepConfig(env=sizes.env, out=out / "pareto", algos=sizes.algos, ws=sizes.ws, seeds=(0,),
                       conditioned=sizes.conditioned, init=str(out / "sft" / "final"), model=model,
                       scripted=SCRIPTED_REFERENCES, eval_n=sizes.eval_n, eval_seeds=sizes.eval_seeds,
                       overrides=overrides)


def _teacher(sizes: DemoSizes, data: Path) -> None:
    from bao.pipelines.teacher_data import TeacherDataConfig, build_teacher_data

    stats = build_teacher_data(TeacherDataConfig(env=sizes.env, out=data, n=sizes.teacher_episodes))
    if not stats.kept:
        raise ValueError(f"the {sizes.env} teacher succeeded in none of {stats.episodes} episodes: nothing to learn")


def _sft(sizes: DemoSizes, data: Path, out: Path, model: str) -> None:
    from bao.pipelines.sft import SFTConfig, train

    train(SFTConfig(data=data, out=out, model=model, lr=sizes.sft_lr, max_steps=sizes.sft_steps,
                    save_steps=max(1, sizes.sft_steps // 3)))


def _report(out: Path, report_dir: Path) -> None:
    from bao.report.build import build_report

    build_report([out / "pareto"], report_dir, overwrite=True)


def headline_rows(pareto: dict[str, Any], columns: Sequence[str] = HEADLINE) -> list[tuple[str, dict]]:
    """(label, metrics) per point of a pareto.json, references first: the rows the demo prints."""
    rows = []
    for point in sorted(pareto["points"], key=lambda p: p["kind"] != "reference"):
        label = point["method"] if point["w"] is None else f"{point['method']} w={point['w']:g}"
        rows.append((label, {c: point["metrics"].get(c) for c in columns}))
    return rows
