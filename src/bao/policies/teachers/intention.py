"""The IntentionGym teacher: one clarifying question per missing detail, most important first.

The teacher reads the hidden details to choose its questions (each detail's own inquiry, or a plainer
wording the user maps to that detail alone, as the scripted oracle does); the episode ends by itself once
every detail is covered. Its behavior restates what the user's replies settled, one short `topic: option`
item per detail (not the replies verbatim: a small model trained on a growing list of whole sentences learns
to copy them until its token limit), notes questions that turned out not to matter, and plans the next
question without naming the detail it targets (the question itself, the action, does): the agent does not
know which details are missing, nor how many.

Some episodes take **detours**, the two mistakes fine-tuned models make most here: re-asking a detail the user
already settled (the user answers "As I said: ...") and asking about something the user does not care about
(the user redirects). A detour turn is a deliberate error, so `mistakes` names it and SFT keeps it in the
context but out of the loss: the data then shows how to recover from the mistake (Known unchanged, the next
question aimed at a detail still open) without teaching the mistake itself. Without detours every training
episode is a clean run, and a model that strays once meets a state it has never seen and loses its format.
"""

from __future__ import annotations

import random
from functools import lru_cache

from bao.agent.behaviors import Behavior
from bao.core.types import Task, Trajectory
from bao.envs.intention import (
    ALREADY_SAID,
    REDIRECT,
    REPLY_VARIANTS,
    Detail,
    detail_sheet,
    hidden_option,
    reply,
    targeted,
    task_details,
)
from bao.policies.base import Context
from bao.policies.scripted.intention import GENERIC, OFF_TOPIC, exact_question
from bao.policies.teachers.base import Move, Teacher, detour_rng, played_turns

DETOUR_RATE = 0.3
MAX_DETOURS = 2


def _item(text: str) -> str:
    return " ".join(text.replace(";", ",").split())


def _settled(text: str, details: tuple[Detail, ...], options: dict[str, str]) -> list[str]:
    """`topic: option` for each detail the user's reply `text` states (in one of the env's reply sentences;
    the option alone is ambiguous, as several details may hold "No preference"), else the reply itself."""
    said = [f"{d.topic}: {options[d.key]}" for d in details
            if any(reply(d, options[d.key], v) in text for v in range(REPLY_VARIANTS))]
    return [_item(x) for x in said] or [_item(text)]


@lru_cache(maxsize=4096)
def detour_schedule(task_id: str, seed: int, n_details: int) -> tuple[bool, ...]:
    """For each turn of the episode, whether it is a detour. A detour needs a settled detail to re-ask and
    must come before the last detail is asked (that question ends the episode)."""
    rng = detour_rng(task_id, seed)
    schedule: list[bool] = []
    asked = 0
    while asked < n_details:
        detour = 0 < asked and sum(schedule) < MAX_DETOURS and rng.random() < DETOUR_RATE
        schedule.append(detour)
        asked += not detour
    return tuple(schedule)


def _detour_question(task: str, details: tuple[Detail, ...], settled: Detail, rng: random.Random) -> str:
    """The re-asked question of a settled detail, or a plausible question no detail of this task answers."""
    sheet = detail_sheet(task, details)
    off_target = [q for q in (*GENERIC.values(), *OFF_TOPIC) if not targeted(sheet, q)[0]]
    if off_target and rng.random() < 0.5:
        return rng.choice(off_target)
    return exact_question(task, details, settled)


def _plan(turns: list[tuple[str, str]]) -> str:
    if not turns:
        return "ask about the most important detail the request leaves open"
    last = turns[-1][1]
    if last == REDIRECT:
        return "that did not matter to the user; ask about a detail the request leaves open"
    if last.startswith(ALREADY_SAID):
        return "that detail was settled already; ask about one not settled yet"
    return "ask about the next detail the request leaves open"


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
        schedule = detour_schedule(ctx.task.id, ctx.seed, len(details))
        played = self.played(ctx)
        asked = schedule[:played].count(False)
        task = ctx.task.hidden["task"]
        if played < len(schedule) and schedule[played]:
            question = _detour_question(task, details, ordered[asked - 1],
                                        detour_rng(ctx.task.id, ctx.seed, played))
        else:
            question = exact_question(task, details, ordered[min(asked, len(ordered) - 1)])
        return Move("action", question, Behavior(known, ("details the user has not stated yet",), ruled_out,
                                                 _plan(turns), self.budget(ctx)))

    def mistakes(self, task: Task, traj: Trajectory) -> tuple[int, ...]:
        schedule = detour_schedule(task.id, traj.seed, len(task_details(task)))
        played = [t.index for t in played_turns(traj)]
        return tuple(played[i] for i, detour in enumerate(schedule) if detour and i < len(played))

    @staticmethod
    def secrets(task: Task, traj: Trajectory, turn: int) -> list[str]:
        covered = {key for t in traj.turns[:turn] for key in t.info.get("revealed", [])}
        return [s for d in task_details(task) if d.key not in covered for s in (d.key, *d.options)]


TEACHER = IntentionTeacher
