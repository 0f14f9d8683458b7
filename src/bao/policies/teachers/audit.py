"""The no-cheating check on teacher trajectories: reasoning must not state hidden facts before they are told.

A hidden string (declared by the teacher's `secrets`) leaks at turn t when it appears in turn t's reasoning
but in none of what the agent had seen by then: the task prompt, earlier turns (outputs and observations),
and turn t's own action content (a guess or an answer may name what the reasoning names). Matching ignores
case and runs of whitespace, and needs word boundaries, so `-16` does not match inside `-160`. Reasoning in the
behavior grammar is checked without its budget suffix: the turn count is no claim about the task, and a
budget of 15 must not count as stating a hidden result of 15.

A teacher's broken turn (its one invalid turn, see `bao.policies.teachers.base`) is neither checked nor counted
as seen: it is trained on by no one, and its text is either the next turn's reasoning cut before the tool call
(checked on that turn) or a made-up loop, such as a count of candidates that runs past the hidden answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bao.agent.behaviors import try_parse_behavior
from bao.core.types import Task, Trajectory
from bao.policies.teachers import teacher_class
from bao.policies.teachers.base import is_broken


@dataclass(frozen=True)
class Leak:
    """A hidden string found in a turn's reasoning before the agent could know it."""

    task_id: str
    turn: int
    secret: str


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def mentions(text: str, secret: str) -> bool:
    """Whether `secret` occurs in `text` as a whole phrase (case and whitespace ignored)."""
    needle = _norm(secret)
    if not needle:
        return False
    return re.search(rf"(?<![\w.-]){re.escape(needle)}(?![\w])", _norm(text)) is not None


def claims(reasoning: str) -> str:
    """The part of `reasoning` that states beliefs: all of it, less the budget when it follows the grammar."""
    behavior = try_parse_behavior(reasoning)
    if behavior is None:
        return reasoning
    return "\n".join((*behavior.known, *behavior.alive, *behavior.ruled_out, behavior.plan))


def find_leaks(traj: Trajectory, task: Task) -> list[Leak]:
    """Every (turn, secret) where the reasoning of `traj` states a hidden string of `task` too early."""
    secrets_of = teacher_class(task.env).secrets
    seen = "\n".join(m["content"] for m in task.prompt)
    leaks = []
    for turn in traj.turns:
        if is_broken(turn):
            seen += f"\n{turn.observation}"
            continue
        allowed = seen + "\n" + turn.content
        for secret in secrets_of(task, traj, turn.index):
            if mentions(claims(turn.reasoning), secret) and not mentions(allowed, secret):
                leaks.append(Leak(task.id, turn.index, secret))
        seen += f"\n{turn.output}\n{turn.observation}"
    return leaks
