"""Was a question redundant? Decided from the conversation alone, for users that have no knowledge sheet.

An offline user knows which fact each question reached, so its env can say exactly when a question revealed
nothing new. An LLM user (UserRL's mode) has no sheet; BAO's regularizer (`redundant` in `info`, penalised by
`bao.rewards.shaping`) still needs the flag, so it is decided from the questions and replies themselves.
A question is **redundant** when any of these holds:

1. **near-duplicate**: its content tokens (`bao.users.text.tokens`: stopwords out, stems, synonyms merged, so
   "Is it alive?" and "Is it a living thing?" meet) overlap an earlier question's by at least
   `DUPLICATE_OVERLAP` (Jaccard) — asking again brings nothing, whatever the user replies;
2. **non-answer**: the reply says nothing about the hidden state: it is "Maybe" (or "Unknown"), or a short
   reply (at most `SHORT_REPLY` words) holding a phrase of `NON_ANSWERS` ("I don't know", "That doesn't
   matter", "I don't have a preference there", "too vague", "not available right now"). Long replies are left
   alone: a sentence that says "not sure" may still reveal something, and the canned fallbacks of an env
   (a failed call, an unparsable reply) are flagged by the env itself;
3. **same reply to a similar question**: its tokens overlap an earlier question's by at least
   `SIMILAR_OVERLAP` and the user gave the same (normalised) reply: a rephrasing that the user treats as the
   same question.

Rule 3 needs both halves: in a yes/no game most replies are "Yes." or "No.", so an equal reply alone says
nothing. The thresholds are deliberately strict (a false "redundant" penalises a useful question); envs that
can tell more (intention's coverage judge, travel's preference judge) add their own evidence on top.
"""

from __future__ import annotations

import re

from bao.users.text import tokens

DUPLICATE_OVERLAP = 0.8
SIMILAR_OVERLAP = 0.5
SHORT_REPLY = 15  # words
EXACT_NON_ANSWERS = frozenset({"maybe", "unknown", "perhaps", "possibly"})
NON_ANSWERS = (
    "i don t know", "i do not know", "not sure", "no idea", "can t say", "cannot say", "can t tell",
    "cannot tell", "hard to tell", "doesn t matter", "does not matter", "not relevant", "irrelevant",
    "can t answer", "cannot answer", "unable to answer", "unable to respond", "not available",
    "don t have a particular preference", "don t have a preference", "do not have a preference",
    "no particular preference", "no particular wish", "no strong preference", "no preference",
    "don t have specific preference", "too vague", "try again",
)
_NON_ANSWER = re.compile(r"\b(?:" + "|".join(re.escape(p) for p in NON_ANSWERS) + r")\b")
_WORD = re.compile(r"[a-z0-9]+")


def normalise_reply(reply: str) -> str:
    """Lowercase words joined by single spaces: "Yes." == "yes" and "I don't know" -> "i don t know"."""
    return " ".join(_WORD.findall(reply.lower()))


def overlap(a: str, b: str) -> float:
    """Jaccard overlap of two texts' content tokens (1.0 for two texts with none, e.g. "Is it?" twice)."""
    ta, tb = set(tokens(a)), set(tokens(b))
    if not ta and not tb:
        return 1.0
    return len(ta & tb) / len(ta | tb)


def is_non_answer(reply: str) -> bool:
    """Whether a reply reveals nothing: "Maybe.", or a short "I don't know" / "That doesn't matter" / "No
    particular preference"."""
    said = normalise_reply(reply)
    if said in EXACT_NON_ANSWERS:
        return True
    return len(said.split()) <= SHORT_REPLY and bool(_NON_ANSWER.search(said))


def is_redundant(question: str, earlier: list[tuple[str, str]], reply: str) -> bool:
    """Whether `question`, answered with `reply`, was redundant given the `earlier` (question, reply) pairs of
    the episode (rules in the module docstring)."""
    if is_non_answer(reply):
        return True
    said = normalise_reply(reply)
    for old_question, old_reply in earlier:
        similarity = overlap(question, old_question)
        if similarity >= DUPLICATE_OVERLAP:
            return True
        if similarity >= SIMILAR_OVERLAP and normalise_reply(old_reply) == said:
            return True
    return False
