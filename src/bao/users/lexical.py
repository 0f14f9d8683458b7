"""The lexical matcher: a question reaches the entry whose words it shares, weighted by how rare they are.

`LexicalMatcher` scores each entry by IDF-weighted cosine similarity between the question's tokens and the
entry's words (its closest question form, or all its forms and keywords pooled when that is closer: a
paraphrase often borrows words from two forms of one entry), blended with how much of the question's weight
falls on the entry's keywords. IDF comes from all the forms of the sheet, so words every entry shares ("it",
"story") count for little. Below `threshold` no entry matches: the user cannot answer that question.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from bao.users.base import Entry, Match, top_match
from bao.users.text import tokens

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
