"""The LLM user of the yes/no games (telepathy, turtle): its one word read from a JSON reply, and its turn as a
step: the word as the reply, UserRL's canned line when it gave none, and `redundant` from the conversation
(`bao.users.redundancy`), since there is no knowledge sheet to tell what a question revealed."""

from __future__ import annotations

from bao.core.types import StepResult
from bao.users.redundancy import is_redundant

ANSWER_FALLBACK = "I can't answer that right now. Please ask again."
WORDS = {"yes": "Yes", "no": "No", "maybe": "Maybe"}


def yes_no(reply: dict | None, key: str) -> str | None:
    """"Yes", "No" or "Maybe" as the reply gives it under `key` (any case, a trailing "." or "!"), else None."""
    return WORDS.get(str((reply or {}).get(key, "")).strip().strip(".!").lower())


def answer_step(answer: str | None, question: str, exchanges: list[tuple[str, str]]) -> StepResult:
    """The user's turn: `answer` (None: the user gave no word, and the fallback line is the reply, redundant) is
    recorded in `exchanges`, the episode's (question, reply) pairs."""
    text = ANSWER_FALLBACK if answer is None else f"{answer}."
    redundant = answer is None or is_redundant(question, exchanges, text)
    exchanges.append((question, text))
    return StepResult(text, 0.0, False, {"success": False, "revealed": [], "redundant": redundant,
                                         "info_gain_bits": None, "fallback": answer is None})
