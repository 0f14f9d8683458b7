"""What every teacher shares: a move (the action plus the behavior behind it) and its rendering.

A teacher is a scripted policy that plays well and explains itself. It may read `task.hidden` to *choose*
its moves, but the `Behavior` it writes may only state what the agent could know at that turn: what the
conversation told it, plus public world knowledge (the knowledge bases and training data every scripted
heuristic may use). `bao.policies.teachers.audit` checks that promise on generated trajectories, using the
`secrets` each teacher declares. With `behaviors="none"` the same moves are written without reasoning: the
ablation BAO compares against.

Teachers also err on purpose (**detours**), so that the data shows how to recover from the states a fine-tuned
model reaches by its own mistakes; SFT keeps a detour turn in the context and out of the loss. Every teacher
with reasoning **breaks** one turn in some episodes: it writes one of the loops fine-tuned models fell into in
evaluation (`LOOP_FORMS`) until the token limit cuts the turn, so the environment answers with a format error.
In evaluation, a model that wrote one such turn copied it in every turn after (every invalid turn of the
measured runs came in such a run): the turn after a broken one, written clean, is the recovery the data
lacked. A recovery shown for one loop form was learned for that form only, hence several. Each teacher may add
detours of its own (`mistakes`).
"""

from __future__ import annotations

import itertools
import random
import re
from abc import abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, replace

from bao.agent.behaviors import SEPARATOR, Behavior, render_behavior
from bao.agent.render import render_tool_call
from bao.core.types import Task, Trajectory, Turn
from bao.policies.base import Context, Policy

BEHAVIOR_MODES = ("bao", "none")
BROKEN_RATE = 0.5
BROKEN_CHARS = 1000  # about the 256 tokens a turn of evaluation may write (measured: 666 to 1,351 characters)


def detour_rng(task_id: str, seed: int, *key: int | str) -> random.Random:
    """The RNG of a teacher's detours in one episode (with a key: of that turn's detour), apart from the
    episode's own `ctx.rng`, so that deciding on a detour does not shift the teacher's other random draws."""
    return random.Random(":".join(map(str, ("detour", seed, task_id, *key))))


# The loops seen in evaluation, each from a list line of the reasoning: its last item repeated (`item`), the
# last number of that item counting up (`count`: "answer 11 (wrong); answer 12 (wrong); ..."), the last part of
# a comma group repeated ("no: is_object, is_sport, is_sport, ..."); or the whole reasoning closed again and
# again with no tool call (`close`). A form the behavior has no material for falls back to `item`, and an
# episode with empty lists to `close`.
LOOP_FORMS = ("item", "count", "group", "close")
_LAST_NUMBER = re.compile(r"\d+(?=\D*$)")


def broken_text(behavior: Behavior, rng: random.Random) -> str:
    """A turn that loses the format the way fine-tuned models do: `behavior` written up to one of its list
    lines, then looped in a form drawn from `LOOP_FORMS` until the turn is cut at `BROKEN_CHARS`."""
    lines = render_behavior(behavior).split("\n")
    lists = [(row, items) for row, items in enumerate((behavior.known, behavior.alive, behavior.ruled_out)) if items]
    form = rng.choice(LOOP_FORMS)
    if form == "close" or not lists:
        return _cut("<think>\n" + "\n".join(lines) + "\n</think>", itertools.repeat("\n</think>"))
    row, items = rng.choice(lists)
    head, last = "<think>\n" + "\n".join(lines[:row + 1]), items[-1]
    number = _LAST_NUMBER.search(last)
    if form == "count" and number:
        before, after = last[:number.start()], last[number.end():]
        return _cut(head, (f"{SEPARATOR}{before}{n}{after}" for n in itertools.count(int(number.group()) + 1)))
    if form == "group" and ", " in last:
        return _cut(head, itertools.repeat(", " + last.rsplit(", ", 1)[-1]))
    return _cut(head, itertools.repeat(SEPARATOR + last))


def _cut(head: str, loop: Iterator[str]) -> str:
    text = head
    while len(text) < BROKEN_CHARS:
        text += next(loop)
    return text[:BROKEN_CHARS]


def is_broken(turn: Turn) -> bool:
    """Whether `turn` of a teacher's episode is its broken one: the only invalid turn a teacher writes."""
    return turn.kind == "invalid"


def played_turns(traj: Trajectory) -> list[Turn]:
    """The turns of a teacher's episode written in the grammar: all but its broken one."""
    return [turn for turn in traj.turns if not is_broken(turn)]


@dataclass(frozen=True)
class Move:
    """One teacher turn: the tool call `(choice, content)` and the behavior that justifies it."""

    choice: str
    content: str
    behavior: Behavior


class Teacher(Policy):
    """A scripted policy that writes `<think>` in the behavior grammar (mode `bao`) or nothing (mode `none`)."""

    env: str = ""
    broken_turns: tuple[int, int] = (1, 4)  # the turn broken is drawn from these (inclusive): lists have items

    def __init__(self, behaviors: str = "bao", max_turns: int = 16) -> None:
        if behaviors not in BEHAVIOR_MODES:
            raise ValueError(f"unknown behaviors {behaviors!r}: choose one of {', '.join(BEHAVIOR_MODES)}")
        self.behaviors = behaviors
        self.max_turns = max_turns
        self.name = f"teacher-{behaviors}"

    def budget(self, ctx: Context) -> int:
        """Turns left, counting the one being planned."""
        return self.max_turns - ctx.turn

    def broken_turn(self, task_id: str, seed: int) -> int | None:
        """The turn (0-based) this teacher breaks in the episode, or None (always None without reasoning: every
        loop form loops in the reasoning)."""
        rng = detour_rng(task_id, seed, "broken")
        if self.behaviors != "bao" or rng.random() >= BROKEN_RATE:
            return None
        return rng.randint(*self.broken_turns)

    def played(self, ctx: Context) -> int:
        """Turns played so far, not counting a broken one: the turn index of the teacher's own plan."""
        broken = self.broken_turn(ctx.task.id, ctx.seed)
        return ctx.turn - (broken is not None and broken < ctx.turn)

    def act(self, ctx: Context) -> str:
        if ctx.turn == self.broken_turn(ctx.task.id, ctx.seed):
            # On a copy of the episode's RNG: the turn after plays the move this one broke, and the episode
            # makes the same moves as without the break (what the `none` ablation plays) while its budget,
            # one turn smaller, does not change the plan.
            rng = random.Random()
            rng.setstate(ctx.rng.getstate())
            behavior = self.move(replace(ctx, rng=rng)).behavior
            return broken_text(behavior, detour_rng(ctx.task.id, ctx.seed, "loop"))
        move = self.move(ctx)
        reasoning = render_behavior(move.behavior) if self.behaviors == "bao" else ""
        return render_tool_call(move.choice, move.content, reasoning)

    def detours(self, task: Task, traj: Trajectory) -> tuple[int, ...]:
        """Turns (0-based) of the teacher's episode `traj` where it erred on purpose to show a recovery: its
        broken turn (the only invalid turn a teacher writes) and its `mistakes`. SFT keeps them in the
        context but out of the loss."""
        broken = {t.index for t in traj.turns if is_broken(t)}
        return tuple(sorted(broken | set(self.mistakes(task, traj))))

    def mistakes(self, task: Task, traj: Trajectory) -> tuple[int, ...]:
        """The turns of `traj` where this teacher chose a wrong action on purpose. None by default."""
        return ()

    @abstractmethod
    def move(self, ctx: Context) -> Move:
        """The next move; may read `ctx.task.hidden` to choose it, never to word its behavior."""

    @staticmethod
    @abstractmethod
    def secrets(task: Task, traj: Trajectory, turn: int) -> list[str]:
        """Hidden strings the agent has not been told before turn `turn` (0-based) of `traj`."""
