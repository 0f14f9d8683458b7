"""Scripted agents for TurtleGym.

- `oracle` reads the hidden story and answers it at once, adding a word for any key point the bottom's own
  wording misses, so it scores the maximum in one turn.
- `heuristic` uses only what it is told plus public training data: its questions are the generic
  lateral-thinking questions of `QUESTION_BANK` and the questions of the *training* stories' sheets (never
  the current story's). Each turn it asks the unasked question sharing most rare words with the surface and
  with what the user confirmed so far, plus a prior: the score the question gained, on average, on the other
  training stories that confirm it (`_gains`). It stops after `ASK_TURNS`, tells a story made of the surface
  and every question answered "Yes", and finishes. Its story contains the surface, so it never scores below
  `answer-now` on a story.
- `answer-now` retells the surface without asking, then finishes. `random` asks random bank questions and
  answers with the surface.
"""

from __future__ import annotations

import math
from collections import Counter

from bao.agent.render import render_tool_call
from bao.envs.data import per_data_dir
from bao.envs.turtle import TurtleEnv, criterion_score, stories, story_score
from bao.policies.base import Context, Policy
from bao.users.text import tokens

QUESTION_BANK = (
    "Did someone die?", "Was someone killed?", "Was it an accident?", "Was it suicide?", "Is someone lying?",
    "Was it a dream?", "Is there anything supernatural?", "Is a ghost involved?", "Is someone mentally ill?",
    "Is the narrator a child?", "Is the narrator dead?", "Is a family member involved?", "Is the mother involved?",
    "Is the father involved?", "Is a husband or wife involved?", "Is money involved?", "Is a crime involved?",
    "Was someone murdered?", "Did it happen at night?", "Did it happen at home?", "Is a hospital involved?",
    "Is someone blind?", "Is an animal involved?", "Is food involved?", "Was someone poisoned?",
    "Was it a misunderstanding?", "Was someone trapped?", "Is someone hiding something?", "Was it revenge?",
    "Is a phone involved?", "Is a car involved?", "Is water involved?", "Did someone get hurt?",
    "Is a doctor involved?", "Is the police involved?", "Did someone disappear?",
)
ASK_TURNS = 14
# Weight of a question's expected score gain on the training stories (about 0.01 for a good generic question)
# against its rare-word overlap with the surface (a sum of IDFs, about 1-10); picked on the train split.
GAIN_WEIGHT = 300.0


def _surface(ctx: Context) -> str:
    return _surface_of(ctx.task.prompt)


def _surface_of(prompt: list[dict[str, str]]) -> str:
    text = prompt[-1]["content"]
    return text.split("Try to uncover", 1)[0].replace("Title:", "").replace("Surface:", "").strip()


@per_data_dir
def _training_questions() -> tuple[tuple[str, str], ...]:
    """(story id, question) for every question of the training sheets, plus the generic bank."""
    out = [("", q) for q in QUESTION_BANK]
    for story in stories().values():
        if story.split == "train":
            out += [(story.story_id, f.questions[0]) for f in story.facts]
    return tuple(out)


@per_data_dir
def _gains() -> dict[str, dict[str, float]]:
    """For each candidate question, the training stories whose user answers it "Yes", and how much adding the
    question to that story's surface raised its score there.

    A question that many stories confirm, in words their rubrics ask for ("Did someone die?"), is worth asking
    in any story. Only training stories (sheets, surfaces, key points) are used, so nothing of an evaluation
    story leaks.
    """
    train = {t.id: t for t in TurtleEnv().tasks("train")}
    base = {sid: story_score(_surface_of(t.prompt), stories()[sid])[0] for sid, t in train.items()}
    out = {}
    for _, question in _training_questions():
        gains = {}
        for sid, task in train.items():
            story = stories()[sid]
            match = story.matcher().match(question)
            if match is not None and next(f for f in story.facts if f.id == match.key).answer == "yes":
                gains[sid] = story_score(_surface_of(task.prompt) + " " + question, story)[0] - base[sid]
        out[question] = gains
    return out


def _expected_gain(question: str, story_id: str) -> float:
    """Mean score gain of `question` over the *other* training stories (0 where not confirmed)."""
    gains = _gains().get(question, {})
    n = len(_train_ids()) - (story_id in _train_ids())
    return (sum(gains.values()) - gains.get(story_id, 0.0)) / max(n, 1)


@per_data_dir
def _train_ids() -> frozenset[str]:
    return frozenset(t.id for t in TurtleEnv().tasks("train"))


@per_data_dir
def _idf() -> dict[str, float]:
    questions = _training_questions()
    df = Counter(t for _, q in questions for t in set(tokens(q)))
    return {t: math.log(len(questions) / c) for t, c in df.items()}


def next_question(surface: str, asked: list[tuple[str, str]], story_id: str) -> str | None:
    """The unasked question whose rare words best overlap the surface and the confirmed questions."""
    words = set(tokens(surface))
    for question, reply in asked:
        if reply.startswith("Yes"):
            words |= set(tokens(question))
    done = {q for q, _ in asked}
    idf = _idf()
    best, best_score = None, 0.0
    for sid, question in _training_questions():
        if sid == story_id or question in done:
            continue
        overlap = sum(idf.get(t, 0.0) for t in words & set(tokens(question)))
        score = overlap + GAIN_WEIGHT * _expected_gain(question, story_id)
        if score > best_score:
            best, best_score = question, score
    return best


class HeuristicAgent(Policy):
    name = "heuristic"

    def act(self, ctx: Context) -> str:
        surface = _surface(ctx)
        asked = ctx.questions
        if any(choice == "answer" for choice, _, _ in ctx.history):
            return render_tool_call("finish", "", "I told my story; nothing more to add.")
        question = next_question(surface, asked, ctx.task.id) if ctx.turn < ASK_TURNS else None
        if question:
            return render_tool_call("action", question, f"{len(asked)} questions asked; checking a likely twist.")
        confirmed = [q.rstrip("?") for q, reply in asked if reply.startswith("Yes")]
        story = surface + " What really happened: " + ". ".join(confirmed) + "."
        return render_tool_call("answer", story, f"{len(confirmed)} hypotheses confirmed; telling the story.")


class OracleAgent(Policy):
    name = "oracle"

    def act(self, ctx: Context) -> str:
        story = stories()[ctx.task.hidden["story_id"]]
        text = ctx.task.hidden["bottom"]
        toks = tokens(text)
        extra = [" ".join(group[0]) for point in story.key_points if criterion_score(toks, point) < 1.0
                 for group in point.groups]
        return render_tool_call("answer", text + (" " + " ".join(extra) if extra else ""))


class AnswerNowAgent(Policy):
    name = "answer-now"

    def act(self, ctx: Context) -> str:
        if ctx.turn:
            return render_tool_call("finish", "")
        return render_tool_call("answer", _surface(ctx))


class RandomAgent(Policy):
    name = "random"

    def act(self, ctx: Context) -> str:
        if ctx.rng.random() < 0.15:
            return render_tool_call("answer", _surface(ctx))
        return render_tool_call("action", ctx.rng.choice(QUESTION_BANK))


AGENTS: dict[str, type[Policy]] = {
    "random": RandomAgent,
    "answer-now": AnswerNowAgent,
    "heuristic": HeuristicAgent,
    "oracle": OracleAgent,
}
