"""Scripted agents for TelepathyGym.

The `heuristic` knows the same world facts as the simulated user (the knowledge base) but never the target:
it keeps the entities consistent with the answers so far, asks the attribute question that splits them most
evenly (maximum expected information gain), and guesses the survivor once one is left (or when the budget
runs low, the first survivor it has not guessed yet). `oracle` guesses the hidden entity at once.
`answer-now` guesses an entity of the announced kind without asking, then finishes. `random` asks random
attribute questions and makes random guesses.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

from bao.agent.render import render_tool_call
from bao.envs.telepathy import Entity, consistent, is_correct_guess, knowledge_base
from bao.policies.base import Context, Policy

BUDGET = 16


@dataclass
class Replay:
    """What the conversation so far tells an agent that knows the knowledge base but not the target."""

    alive: list[Entity]
    asked: set[str] = field(default_factory=set)
    by_answer: dict[str, list[str]] = field(default_factory=lambda: {"yes": [], "no": [], "maybe": []})
    wrong: list[str] = field(default_factory=list)


def replay(history: list[tuple[str, str, str]]) -> Replay:
    """From `(choice, content, reply)` turns: the entities consistent with every answer and not yet guessed
    wrong, the attributes asked, those the user answered grouped by the answer, and the wrong guesses."""
    kb = knowledge_base()
    by_question = {a.question: a.id for a in kb.attributes}
    state = Replay(list(kb.entities))
    for choice, content, reply in history:
        if choice == "action" and content in by_question:
            attribute = by_question[content]
            state.asked.add(attribute)
            answer = reply.strip(". ").lower()
            if answer in state.by_answer:
                state.by_answer[answer].append(attribute)
                state.alive = [e for e in state.alive if consistent(e, attribute, answer)]
        elif choice == "answer":  # an answer in the history was wrong: a right one ends the episode
            state.wrong.append(content)
            state.alive = [e for e in state.alive if not is_correct_guess(content, e)]
    return state


def entropy(alive: list[Entity], attribute: str) -> float:
    """The expected information gain of asking `attribute` over the survivors (`maybe` counts as its own
    answer)."""
    counts = Counter(e.values[attribute] for e in alive)
    n = len(alive)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def best_question(alive: list[Entity], asked: set[str]) -> tuple[str, float] | None:
    """The question of the attribute with the largest expected information gain over the survivors."""
    best = None
    for attribute in knowledge_base().attributes:
        if attribute.id in asked:
            continue
        gain = entropy(alive, attribute.id)
        if best is None or gain > best[1]:
            best = (attribute.question, gain)
    return best if best and best[1] > 0 else None


class HeuristicAgent(Policy):
    name = "heuristic"

    def act(self, ctx: Context) -> str:
        state = replay(ctx.history)
        alive = state.alive
        turns_left = BUDGET - ctx.turn
        question = best_question(alive, state.asked)
        if alive and (len(alive) == 1 or question is None or turns_left <= min(len(alive), 3)):
            guess = alive[0].title
            return render_tool_call("answer", guess, f"{len(alive)} candidates fit every answer; guessing {guess}.")
        if question is None:
            return render_tool_call("finish", "", "No candidate fits the answers.")
        return render_tool_call("action", question[0], f"{len(alive)} candidates left; this question splits them best.")


class OracleAgent(Policy):
    name = "oracle"

    def act(self, ctx: Context) -> str:
        return render_tool_call("answer", ctx.task.hidden["title"])


_KIND = re.compile(r"thinking of an? ([\w\s-]+?)[.!]", re.IGNORECASE)


class AnswerNowAgent(Policy):
    name = "answer-now"

    def act(self, ctx: Context) -> str:
        if ctx.turn:
            return render_tool_call("finish", "")
        match = _KIND.search(ctx.task.prompt[-1]["content"])
        kind = match.group(1).lower() if match else ""
        pool = ([e for e in knowledge_base().entities if kind and kind in e.category.lower()]
                or list(knowledge_base().entities))
        return render_tool_call("answer", ctx.rng.choice(pool).title)


class RandomAgent(Policy):
    name = "random"

    def act(self, ctx: Context) -> str:
        kb = knowledge_base()
        if ctx.rng.random() < 0.2:
            return render_tool_call("answer", ctx.rng.choice(kb.entities).title)
        return render_tool_call("action", ctx.rng.choice(kb.attributes).question)


AGENTS: dict[str, type[Policy]] = {
    "random": RandomAgent,
    "answer-now": AnswerNowAgent,
    "heuristic": HeuristicAgent,
    "oracle": OracleAgent,
}
