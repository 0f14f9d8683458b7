"""The matcher contract: what a user can be asked about (`Entry`), what a matcher answers (`Match`), and the
rule every kind decides with (`top_match`: the best entry, or none below the threshold).

Every matcher kind (`bao.users.lexical`, `bao.users.embedding`) and the wrappers and factory of
`bao.users.matcher` build on this module, which imports none of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Entry:
    """One thing the user can be asked about: a key, the ways to ask it, and its keywords."""

    key: str
    forms: tuple[str, ...]
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class Match:
    key: str
    score: float
    ranking: tuple[tuple[str, float], ...] = field(default=(), compare=False)


class Matcher(Protocol):
    threshold: float

    def rank(self, question: str) -> list[tuple[str, float]]: ...

    def match(self, question: str) -> Match | None: ...


def top_match(ranking: list[tuple[str, float]], threshold: float) -> Match | None:
    """The best entry of a ranking (with the top five for inspection), or None below `threshold`."""
    key, score = ranking[0]
    return Match(key, score, tuple(ranking[:5])) if score >= threshold else None
