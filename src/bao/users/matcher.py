"""Match a free-form question to the entry of a knowledge sheet it asks about.

`LexicalMatcher` scores each entry by IDF-weighted cosine similarity between the question's tokens and each
of the entry's question forms (best form wins), blended with how much of the question's weight falls on the
entry's keywords. IDF comes from all the forms of the sheet, so words every entry shares ("it", "story")
count for little. Below `threshold` no entry matches: the user cannot answer that question.
`EmbeddingMatcher` (optional) does the same with sentence embeddings and is picked with `make_matcher`.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Protocol, Sequence

from bao.users.text import tokens


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


FORM_WEIGHT = 0.7
DEFAULT_THRESHOLD = 0.35


class LexicalMatcher:
    """Token matcher over a fixed set of entries; cheap enough for thousands of user steps a second."""

    def __init__(self, entries: Sequence[Entry], threshold: float = DEFAULT_THRESHOLD) -> None:
        if not entries:
            raise ValueError("a matcher needs at least one entry")
        self.entries = list(entries)
        self.threshold = threshold
        docs = [set(tokens(form)) for e in self.entries for form in e.forms]
        df = Counter(t for doc in docs for t in doc)
        n = len(docs)
        self._idf = {t: math.log(1 + n / c) for t, c in df.items()}
        self._default_idf = math.log(1 + n)
        self._forms = [[self._vector(form) for form in e.forms] for e in self.entries]
        self._keywords = [{t for kw in e.keywords for t in tokens(kw)} for e in self.entries]

    def _weight(self, token: str) -> float:
        return self._idf.get(token, self._default_idf)

    def _vector(self, text: str) -> tuple[dict[str, float], float]:
        weights = {t: self._weight(t) for t in set(tokens(text))}
        return weights, math.sqrt(sum(w * w for w in weights.values()))

    def rank(self, question: str) -> list[tuple[str, float]]:
        q, q_norm = self._vector(question)
        if not q:
            return [(e.key, 0.0) for e in self.entries]
        q_mass = sum(q.values())
        scored = []
        for entry, forms, keywords in zip(self.entries, self._forms, self._keywords):
            best = 0.0
            for f, f_norm in forms:
                if f_norm:
                    dot = sum(w * f[t] for t, w in q.items() if t in f)
                    best = max(best, dot / (q_norm * f_norm))
            kw = sum(w for t, w in q.items() if t in keywords) / q_mass
            scored.append((entry.key, FORM_WEIGHT * best + (1 - FORM_WEIGHT) * kw))
        scored.sort(key=lambda item: -item[1])
        return scored

    def match(self, question: str) -> Match | None:
        ranking = self.rank(question)
        key, score = ranking[0]
        return Match(key, score, tuple(ranking[:5])) if score >= self.threshold else None
