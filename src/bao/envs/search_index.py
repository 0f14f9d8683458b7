"""Search backends for SearchGym: the `SearchBackend` contract and the offline BM25 index bao ships.

UserRL searched the live web through the Serper API (google.serper.dev: the answer box plus up to 5 organic
results, title and snippet). bao's env takes any object with `search(query, k) -> list[Passage]`; the
default is `BM25Index` over `bao/data/search/corpus.jsonl`, a small corpus written for bao: for each of the
125 Bamboogle questions the 2-3 one-fact passages its two hops need, plus distractors (related facts that
share the questions' words). The passages state the facts the benchmark's gold answers rest on; they are a
retrieval fixture, not a reference source.

BM25 (Robertson and Zaragoza 2009, "The Probabilistic Relevance Framework: BM25 and Beyond", eq. 3.15 with
the non-negative IDF log(1 + (N - df + 0.5) / (df + 0.5))) over title + text, tokenised with the offline
users' normaliser (`bao.users.text.tokens`: stopwords out, light stemming, synonyms merged). `rank-bm25` is
not a dependency: the scorer is a dozen lines.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from bao.core.errors import DataError
from bao.users.knowledge import sheet_path
from bao.users.text import tokens

K1 = 1.5
B = 0.75


@dataclass(frozen=True)
class Passage:
    """One search result: a stable id, the page title and the text (one fact)."""

    id: str
    title: str
    text: str


class SearchBackend(Protocol):
    def search(self, query: str, k: int) -> list[Passage]:
        """The `k` best passages for `query`, best first (fewer when fewer match)."""
        ...


class BM25Index:
    """An in-memory BM25 index; only passages sharing a token with the query are returned."""

    def __init__(self, passages: list[Passage], k1: float = K1, b: float = B) -> None:
        if not passages:
            raise ValueError("a search index needs at least one passage")
        self.passages = passages
        self.k1, self.b = k1, b
        self._tf = [Counter(tokens(f"{p.title} {p.text}")) for p in passages]
        self._len = [sum(tf.values()) for tf in self._tf]
        self._avg = sum(self._len) / len(passages)
        df = Counter(t for tf in self._tf for t in tf)
        n = len(passages)
        self._idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}

    def scores(self, query: str) -> list[float]:
        """The BM25 score of every passage for `query` (a repeated query word counts once)."""
        out = []
        for tf, length in zip(self._tf, self._len):
            norm = self.k1 * (1 - self.b + self.b * length / self._avg)
            out.append(sum(self._idf[t] * tf[t] * (self.k1 + 1) / (tf[t] + norm)
                           for t in set(tokens(query)) if t in tf))
        return out

    def search(self, query: str, k: int) -> list[Passage]:
        scored = [(s, i) for i, s in enumerate(self.scores(query)) if s > 0]
        scored.sort(key=lambda pair: (-pair[0], pair[1]))
        return [self.passages[i] for _, i in scored[:k]]


def load_corpus(path: Path) -> list[Passage]:
    """Read a JSONL corpus (one `{id, title, text}` object a line); errors name the file, line and field."""
    if not path.exists():
        raise DataError(f"missing search corpus {path}")
    passages, ids = [], set()
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path} line {n}: malformed JSON ({exc.msg})") from None
        for name in ("id", "title", "text"):
            if not isinstance(record, dict) or not isinstance(record.get(name), str) or not record[name].strip():
                raise DataError(f"{path} line {n}: field '{name}' must be a non-empty string")
        if record["id"] in ids:
            raise DataError(f"{path} line {n}: id {record['id']!r} repeats an earlier passage")
        ids.add(record["id"])
        passages.append(Passage(record["id"], record["title"], record["text"]))
    if not passages:
        raise DataError(f"{path}: the corpus is empty")
    return passages


@lru_cache(maxsize=1)
def default_index() -> BM25Index:
    """BM25 over the shipped corpus, built once per process (a few hundred passages: milliseconds)."""
    return BM25Index(load_corpus(sheet_path("search", "corpus.jsonl")))
