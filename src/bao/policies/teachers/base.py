"""What every teacher shares: a move (the action plus the behavior behind it) and its rendering.

A teacher is a scripted policy that plays well and explains itself. It may read `task.hidden` to *choose*
its moves, but the `Behavior` it writes may only state what the agent could know at that turn: what the
conversation told it, plus public world knowledge (the knowledge bases and training data every scripted
heuristic may use). `bao.policies.teachers.audit` checks that promise on generated trajectories, using the
`secrets` each teacher declares. With `behaviors="none"` the same moves are written without reasoning: the
ablation BAO compares against.
"""

from __future__ import annotations

import random
from abc import abstractmethod
from dataclasses import dataclass

from bao.agent.behaviors import Behavior, render_behavior
from bao.agent.render import render_tool_call
from bao.core.types import Task, Trajectory
from bao.policies.base import Context, Policy

BEHAVIOR_MODES = ("bao", "none")


def detour_rng(task_id: str, seed: int, *turn: int) -> random.Random:
    """The RNG of a teacher's detours in one episode (with a turn: of that turn's detour), apart from the
    episode's own `ctx.rng`, so that deciding on a detour does not shift the teacher's other random draws."""
    return random.Random(":".join(map(str, ("detour", seed, task_id, *turn))))


@dataclass(frozen=True)
class Move:
    """One teacher turn: the tool call `(choice, content)` and the behavior that justifies it."""

    choice: str
    content: str
    behavior: Behavior


class Teacher(Policy):
    """A scripted policy that writes `<think>` in the behavior grammar (mode `bao`) or nothing (mode `none`)."""

    env: str = ""

    def __init__(self, behaviors: str = "bao", max_turns: int = 16) -> None:
        if behaviors not in BEHAVIOR_MODES:
            raise ValueError(f"unknown behaviors {behaviors!r}: choose one of {', '.join(BEHAVIOR_MODES)}")
        self.behaviors = behaviors
        self.max_turns = max_turns
        self.name = f"teacher-{behaviors}"

    def budget(self, ctx: Context) -> int:
        """Turns left, counting the one being planned."""
        return self.max_turns - ctx.turn

    def act(self, ctx: Context) -> str:
        move = self.move(ctx)
        reasoning = render_behavior(move.behavior) if self.behaviors == "bao" else ""
        return render_tool_call(move.choice, move.content, reasoning)

    def detours(self, task: Task, traj: Trajectory) -> tuple[int, ...]:
        """Turns (0-based) of the teacher's episode `traj` where it erred on purpose to show a recovery; SFT
        keeps them in the context but out of the loss. None by default."""
        return ()

    @abstractmethod
    def move(self, ctx: Context) -> Move:
        """The next move; may read `ctx.task.hidden` to choose it, never to word its behavior."""

    @staticmethod
    @abstractmethod
    def secrets(task: Task, traj: Trajectory, turn: int) -> list[str]:
        """Hidden strings the agent has not been told before turn `turn` (0-based) of `traj`."""
