"""The IntentionGym teacher: one clarifying question per missing detail, most important first.

The teacher reads the hidden details to choose its questions (each detail's own inquiry, or a plainer
wording the user maps to that detail alone, as the scripted oracle does); the episode ends by itself once
every detail is covered. Its behavior restates what the user's replies settled, one short `topic: option`
item per detail (not the replies verbatim: a small model trained on a growing list of whole sentences learns
to copy them until its token limit), notes questions that turned out not to matter, and plans the next
question without naming the detail it targets (the question itself, the action, does): the agent does not
know which details are missing, nor how many.
"""

from __future__ import annotations

from bao.agent.behaviors import Behavior
from bao.core.types import Task, Trajectory
from bao.envs.intention import REDIRECT, REPLY_VARIANTS, Detail, hidden_option, reply, task_details
from bao.policies.base import Context
from bao.policies.scripted.intention import exact_question
from bao.policies.teachers.base import Move, Teacher


def _item(text: str) -> str:
    return " ".join(text.replace(";", ",").split())


def _settled(text: str, details: tuple[Detail, ...], options: dict[str, str]) -> list[str]:
    """`topic: option` for each detail the user's reply `text` states (in one of the env's reply sentences;
    the option alone is ambiguous, as several details may hold "No preference"), else the reply itself."""
    said = [f"{d.topic}: {options[d.key]}" for d in details
            if any(reply(d, options[d.key], v) in text for v in range(REPLY_VARIANTS))]
    return [_item(x) for x in said] or [_item(text)]


class IntentionTeacher(Teacher):
    env = "intention"

    def move(self, ctx: Context) -> Move:
        details = task_details(ctx.task)
        ordered = sorted(details, key=lambda d: -d.importance)
        turns = ctx.questions
        options = {d.key: hidden_option(ctx.task.id, ctx.seed, d) for d in details}
        known = tuple(dict.fromkeys(x for _, text in turns if text != REDIRECT
                                    for x in _settled(text, details, options)))
        ruled_out = tuple(f"{_item(question)} (did not matter)" for question, reply in turns if reply == REDIRECT)
        detail = ordered[min(ctx.turn, len(ordered) - 1)]
        question = exact_question(ctx.task.hidden["task"], details, detail)
        plan = "ask about the most important detail the request leaves open" if not turns else \
            "ask about the next detail the request leaves open"
        return Move("action", question, Behavior(known, ("details the user has not stated yet",), ruled_out,
                                                 plan, self.budget(ctx)))

    @staticmethod
    def secrets(task: Task, traj: Trajectory, turn: int) -> list[str]:
        covered = {key for t in traj.turns[:turn] for key in t.info.get("revealed", [])}
        return [s for d in task_details(task) if d.key not in covered for s in (d.key, *d.options)]


TEACHER = IntentionTeacher
