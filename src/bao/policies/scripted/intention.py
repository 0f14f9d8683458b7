"""Scripted agents for IntentionGym.

- `oracle` reads the hidden details and asks one question per detail, most important first, each checked
  against the env's matcher to cover exactly that detail: every detail covered, full reward, one user turn
  per detail (merging two details into one question would save a turn but lose reward to the multi-detail
  penalty).
- `heuristic` uses only the task sentence and public training data. Its questions are the inquiries of the
  details of the most similar *training* tasks (shared rare words, same category), most similar task first,
  then the generic questions of `GENERIC`, ordered by how often training details are about that intent.
  It skips a question about a topic it already asked, and finishes after `PATIENCE` replies in a row that
  covered nothing, or when it runs out of questions.
- `answer-now` finishes at once without asking (the floor: nothing clarified).
- `random` asks random generic or off-topic questions and finishes at a random turn.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from bao.agent.render import render_tool_call
from bao.envs.intention import REDIRECT, Detail, IntentionEnv, detail_sheet, targeted, task_details, with_intents
from bao.policies.base import Context, Policy
from bao.users.text import tokens

GENERIC = {
    "kind": "What type of result are you looking for exactly?",
    "budget": "What budget do you have in mind for this?",
    "expertise": "What is your current experience or skill level here?",
    "when": "What time frame or dates do you have in mind?",
    "format": "In what format would you like the result?",
    "place": "Where are you located, or which region should this cover?",
    "purpose": "What is the goal or purpose behind this request?",
    "diet": "Do you have any dietary preferences?",
    "constraint": "Are there any restrictions or things to avoid?",
    "tools": "Which tools, platforms or languages would you like to use?",
    "length": "How long should it be, or how long will it take?",
    "audience": "Who is the intended audience?",
    "style": "What style or tone do you prefer?",
    "source": "Which sources do you trust for this?",
    "quantity": "How many people or items are involved?",
    "frequency": "How often should this happen?",
    "depth": "How detailed should the answer be?",
    "topic": "Which specific topics or areas should I focus on?",
    "brand": "Do you have a brand preference?",
    "difficulty": "How difficult or complex can it be?",
}
OFF_TOPIC = ("How is your day going?", "Do you like the weather today?", "What is your favourite colour?")
PATIENCE = 4
NEIGHBOURS = 6
_TASK_LINE = re.compile(r"initial vague task description:\s*(.+)", re.IGNORECASE)
_CATEGORY_LINE = re.compile(r"category of the task:\s*(.+)", re.IGNORECASE)


def task_text(ctx: Context) -> tuple[str, str]:
    """(task sentence, category) as the prompt states them."""
    text = ctx.task.prompt[-1]["content"]
    task, category = _TASK_LINE.search(text), _CATEGORY_LINE.search(text)
    return (task.group(1).strip() if task else text), (category.group(1).strip() if category else "")


def topic_of(question: str) -> frozenset[str]:
    return frozenset(tokens(with_intents(question)))


@dataclass(frozen=True)
class Example:
    """A training task as the heuristic learns from it: its words, and the questions its details expect
    (the first sentence of each inquiry), most important first."""

    sentence: str
    words: frozenset[str]
    category: str
    questions: tuple[str, ...]


@lru_cache(maxsize=1)
def _training() -> tuple[Example, ...]:
    out = []
    for task in IntentionEnv().tasks("train"):
        details = sorted(task_details(task), key=lambda d: -d.importance)
        questions = tuple(d.inquiry.split("?")[0].strip() + "?" for d in details)
        out.append(Example(task.hidden["task"], frozenset(tokens(task.hidden["task"])), task.hidden["category"],
                           questions))
    return tuple(out)


@lru_cache(maxsize=1)
def _idf() -> dict[str, float]:
    df = Counter(t for example in _training() for t in example.words)
    return {t: math.log(len(_training()) / c) for t, c in df.items()}


@lru_cache(maxsize=1)
def generic_order() -> tuple[str, ...]:
    """GENERIC's questions, the intents most common among training details first."""
    counts = Counter(t for example in _training() for q in example.questions for t in tokens(with_intents(q))
                     if t.startswith("intent"))
    return tuple(GENERIC[name] for name in sorted(GENERIC, key=lambda n: -counts[f"intent{n}"]))


def candidate_questions(task: str, category: str) -> list[str]:
    """Questions worth asking about `task`: neighbours' inquiries (closest task, most important first), then
    the generic questions. The task itself is never its own neighbour (when playing the train split)."""
    words, idf = frozenset(tokens(task)), _idf()
    neighbours = sorted(
        (e for e in _training() if e.sentence != task),
        key=lambda e: -(sum(idf.get(t, 0.0) for t in words & e.words) + (1.0 if e.category == category else 0.0)),
    )
    return [q for e in neighbours[:NEIGHBOURS] for q in e.questions] + list(generic_order())


class HeuristicAgent(Policy):
    name = "heuristic"

    def act(self, ctx: Context) -> str:
        asked = ctx.questions
        misses = 0
        for _, reply in reversed(asked):
            if reply != REDIRECT:
                break
            misses += 1
        if misses >= PATIENCE:
            return render_tool_call("finish", "", f"{misses} questions in a row clarified nothing; stopping.")
        done = [topic_of(q) for q, _ in asked]
        for question in candidate_questions(*task_text(ctx)):
            topic = topic_of(question)
            if all(len(topic & d) < 0.5 * max(len(topic), 1) for d in done):
                return render_tool_call("action", question, f"{len(asked)} asked; next open topic.")
        return render_tool_call("finish", "", "I have no new topic to ask about.")


class OracleAgent(Policy):
    name = "oracle"

    def act(self, ctx: Context) -> str:
        details = task_details(ctx.task)
        ordered = sorted(details, key=lambda d: -d.importance)
        detail = ordered[min(ctx.turn, len(ordered) - 1)]
        question = exact_question(ctx.task.hidden["task"], details, detail)
        return render_tool_call("action", question, f"Asking about: {detail.key}.")


def exact_question(task: str, details: tuple[Detail, ...], detail: Detail) -> str:
    """A question the env maps to `detail` alone: its inquiry, else a plainer wording."""
    sheet = detail_sheet(task, details)
    candidates = (detail.inquiry, f"What is your preference for {detail.key.lower()}?",
                  f"Which do you prefer: {', '.join(detail.options)}?")
    for question in candidates:
        if targeted(sheet, question)[0] == [detail.key]:
            return question
    return detail.inquiry


class AnswerNowAgent(Policy):
    name = "answer-now"

    def act(self, ctx: Context) -> str:
        return render_tool_call("finish", "", "I will go with the task as stated.")


class RandomAgent(Policy):
    name = "random"

    def act(self, ctx: Context) -> str:
        if ctx.turn and ctx.rng.random() < 0.1:
            return render_tool_call("finish", "")
        return render_tool_call("action", ctx.rng.choice((*GENERIC.values(), *OFF_TOPIC)))


AGENTS: dict[str, type[Policy]] = {
    "random": RandomAgent,
    "answer-now": AnswerNowAgent,
    "heuristic": HeuristicAgent,
    "oracle": OracleAgent,
}
