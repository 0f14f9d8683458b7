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

from bao.agent.render import render_tool_call
from bao.envs.telepathy import Entity, consistent, is_correct_guess, knowledge_base
from bao.policies.base import Context, Policy

BUDGET = 16


def survivors(ctx: Context) -> tuple[list[Entity], set[str]]:
    """Entities consistent with every answer and not yet guessed wrong, and the attributes already asked."""
    kb = knowledge_base()
    by_question = {a.question: a.id for a in kb.attributes}
    alive, asked = list(kb.entities), set()
    for choice, content, reply in ctx.history:
        if choice == "action" and content in by_question:
            attr = by_question[content]
            asked.add(attr)
            answer = reply.strip(". ").lower()
            if answer in ("yes", "no", "maybe"):
                alive = [e for e in alive if consistent(e, attr, answer)]
        elif choice == "answer":
            alive = [e for e in alive if not is_correct_guess(content, e)]
    return alive, asked


def best_question(alive: list[Entity], asked: set[str]) -> tuple[str, float] | None:
    """The attribute with the largest expected information gain over the survivors (`maybe` counts as its
    own answer)."""
    best = None
    for attribute in knowledge_base().attributes:
        if attribute.id in asked:
            continue
        counts = Counter(e.values[attribute.id] for e in alive)
        n = len(alive)
        entropy = -sum(c / n * math.log2(c / n) for c in counts.values())
        if best is None or entropy > best[1]:
            best = (attribute.question, entropy)
    return best if best and best[1] > 0 else None


class HeuristicAgent(Policy):
    name = "heuristic"

    def act(self, ctx: Context) -> str:
        alive, asked = survivors(ctx)
        turns_left = BUDGET - ctx.turn
        question = best_question(alive, asked)
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
