"""`bao train --env ENV [--algo bao] [--w 0.05] [--config FILE.yaml] [key=value ...]`: multi-turn GRPO (BAO stage 2).

Every setting of `bao.pipelines.rl_config.RLConfig` is a flag; `--config` reads them from YAML; trailing
`key=value` pairs override anything, including the nested `reward.*`, `algo_args.*` and `env_args.*`. The
settings are checked before any model loads. A run directory that already holds a run resumes it.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from rich.console import Console
from rich.progress import Progress

from bao.cli.progress import live_bar
from bao.cli.sft import add_config_arguments

HEADLINE = ("episode/score", "episode/success", "episode/U", "episode/redundant_rate", "loss/policy")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from bao.pipelines.rl_config import RLConfig

    train = subparsers.add_parser("train", help="RL: multi-turn GRPO with turn-level credit (grpo, userrl, "
                                  "bao-paper, bao)", description=__doc__.splitlines()[0])
    train.add_argument("--config", type=Path, default=None, help="YAML file of settings (flags override it)")
    add_config_arguments(train, RLConfig, only_given=True)
    train.add_argument("overrides", nargs="*", metavar="key=value",
                       help="overrides, e.g. reward.lambda_is=0.1 algo_args.gamma=0.9 env_args.guard_test_case=true")


def run(args: argparse.Namespace) -> int:
    from bao.cli.console import console
    from bao.pipelines.rl_config import build_config, flag_fields

    if int(os.environ.get("RANK", "0")) > 0:  # data-parallel: the main process speaks for the run
        console = Console(quiet=True)

    flags = {f.name: getattr(args, f.name) for f in flag_fields()}
    config = build_config(args.config, flags, args.overrides)
    console.print(f"bao train: {config.env} / {config.algo} / w={config.w:g}, {config.steps} steps of "
                  f"{config.tasks_per_step} tasks x {config.group_size} episodes -> {config.run_dir}", highlight=False)
    from bao.pipelines.rl import Trainer

    with StepProgress(console, config.steps, config.tasks_per_step * config.group_size) as progress:
        trainer = Trainer(config, progress.hooks())
        progress.start_at(trainer)
        summary = trainer.run()
    last = summary.get("last_step", {})
    console.print("last step: " + ", ".join(f"{k} {last[k]:.3f}" for k in HEADLINE if k in last), highlight=False)
    if "eval" in summary:
        ev = summary["eval"]
        console.print("test: " + ", ".join(f"{k} {ev[k]:.3f}" for k in ("score", "success", "U", "UR",
                                                                      "redundant_rate", "invalid_rate")),
                      highlight=False)
    console.print(f"final model in {summary['final']}; log in {config.run_dir / 'log.jsonl'} "
                  f"({summary['seconds']:.0f} s)")
    return 0


class StepProgress:
    """A live bar of steps (with the episodes of the current rollout and the last step's metrics) in a
    terminal; one plain line per step otherwise, so a log file shows the run is alive."""

    def __init__(self, console: Console, steps: int, episodes: int) -> None:
        self.console, self.steps, self.episodes = console, steps, episodes
        self.bar: Progress | None = None
        self.done_episodes = 0
        self.phase = ""
        self.last = ""

    def __enter__(self) -> StepProgress:
        if self.console.is_terminal:
            self.bar, self.job = live_bar(self.console, "train", self.steps)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def start_at(self, trainer) -> None:
        if self.bar is not None:
            self.bar.update(self.job, completed=trainer.step)

    def hooks(self):
        from bao.pipelines.rl import Hooks

        return Hooks(on_episode=self._episode, on_step=self._step, on_phase=self._phase)

    def _phase(self, name: str) -> None:
        self.phase = name
        if name == "rollout":
            self.done_episodes = 0
        self._refresh()

    def _episode(self) -> None:
        self.done_episodes += 1
        self._refresh()

    def _step(self, step: int, metrics: dict[str, float]) -> None:
        seconds = metrics["time/rollout_s"] + metrics["time/train_s"]
        self.last = (f"step {step}: score {metrics['episode/score']:.3f} success {metrics['episode/success']:.2f} "
                     f"U {metrics['episode/U']:.2f} redundant {metrics['episode/redundant_rate']:.2f} "
                     f"loss {metrics['loss/policy']:+.4f} | {seconds:.0f} s")
        if self.bar is not None:
            self.bar.update(self.job, completed=step)
        else:
            self.console.print(self.last, highlight=False, soft_wrap=True)
        self._refresh()

    def _refresh(self) -> None:
        if self.bar is None:
            return
        now = f"{self.phase} {self.done_episodes}/{self.episodes}" if self.phase == "rollout" else self.phase
        self.bar.update(self.job, detail=f"{now} | {self.last}")
