"""The behavior grammar: BAO's retrospective reasoning and prospective planning as parseable `<think>` text.

A teacher's reasoning block has exactly four lines, always in this order:

    Known: <item>; <item>; ...          retrospective: what the user or environment has told so far
    Alive: <item>; <item>; ...          retrospective: hypotheses still consistent with what is known
    Ruled out: <item>; <item>; ...      retrospective: hypotheses eliminated (or a count of them)
    Plan: <next step and why> (budget <k> left)     prospective: the next move against the turns left

An empty list is written `nothing yet`. Items are separated by `; `, so an item holds no `;` and no newline,
and is never the empty marker itself; no part holds `</think>`, which would close the block. The plan is one
line; `k` is the number of turns left *including* the one being planned. The grammar is fixed so that later
stages (the redundant-query and over-thinking regularizers, reports) can read what the policy believed at each
turn, and so that a small model learns one shape instead of free prose. `render_behavior` and `parse_behavior`
are exact inverses on valid input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

EMPTY = "nothing yet"
SEPARATOR = "; "
LABELS = ("Known", "Alive", "Ruled out", "Plan")
_CLOSE = "</think>"
_BUDGET = re.compile(r"^(.*) \(budget (\d+) left\)$")


class BehaviorError(ValueError):
    """A behavior that cannot be written in (or read from) the grammar; the message names the part."""


@dataclass(frozen=True)
class Behavior:
    """One turn's reasoning: three retrospective lists and a prospective plan with its turn budget."""

    known: tuple[str, ...]
    alive: tuple[str, ...]
    ruled_out: tuple[str, ...]
    plan: str
    budget: int


def _check_item(item: str, label: str) -> None:
    if not item or item != item.strip() or ";" in item or "\n" in item or item == EMPTY or _CLOSE in item:
        raise BehaviorError(f"{label} item {item!r} must be non-empty, stripped, without ';', newlines or "
                            f"{_CLOSE!r}, and not {EMPTY!r}")


def _render_list(label: str, items: tuple[str, ...]) -> str:
    for item in items:
        _check_item(item, label)
    return f"{label}: {SEPARATOR.join(items) if items else EMPTY}"


def render_behavior(behavior: Behavior) -> str:
    """The four-line reasoning text of `behavior`; raises `BehaviorError` when a part breaks the grammar."""
    plan = behavior.plan
    if not plan or plan != plan.strip() or "\n" in plan or _CLOSE in plan or _BUDGET.match(plan):
        raise BehaviorError(f"plan {plan!r} must be one stripped non-empty line without {_CLOSE!r} or a budget suffix")
    if behavior.budget < 0:
        raise BehaviorError(f"budget must be >= 0, got {behavior.budget}")
    return "\n".join((
        _render_list("Known", behavior.known),
        _render_list("Alive", behavior.alive),
        _render_list("Ruled out", behavior.ruled_out),
        f"Plan: {plan} (budget {behavior.budget} left)",
    ))


def _parse_list(line: str, label: str) -> tuple[str, ...]:
    prefix = f"{label}: "
    if not line.startswith(prefix):
        raise BehaviorError(f"expected a line starting with {prefix!r}, got {line[:40]!r}")
    body = line[len(prefix):]
    if body == EMPTY:
        return ()
    items = tuple(body.split(SEPARATOR))
    for item in items:
        _check_item(item, label)
    return items


def parse_behavior(text: str) -> Behavior:
    """Read reasoning written by `render_behavior` (surrounding whitespace ignored); raises `BehaviorError`."""
    lines = text.strip().split("\n")
    if len(lines) != len(LABELS):
        raise BehaviorError(f"expected {len(LABELS)} lines ({', '.join(LABELS)}), got {len(lines)}")
    known, alive, ruled_out = (_parse_list(line, label) for line, label in zip(lines[:3], LABELS))
    if not lines[3].startswith("Plan: "):
        raise BehaviorError(f"expected a line starting with 'Plan: ', got {lines[3][:40]!r}")
    match = _BUDGET.match(lines[3][len("Plan: "):])
    if match is None or not match.group(1) or match.group(1) != match.group(1).strip():
        raise BehaviorError("the plan must end with ' (budget <k> left)'")
    return Behavior(known, alive, ruled_out, match.group(1), int(match.group(2)))


def try_parse_behavior(text: str) -> Behavior | None:
    """`parse_behavior`, or None for reasoning that does not follow the grammar (e.g. a model's free text)."""
    try:
        return parse_behavior(text)
    except BehaviorError:
        return None
