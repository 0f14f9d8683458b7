"""Matcher accuracy on held-out paraphrase sets: does each question reach the fact it should (or none)?"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bao.users.matcher import Matcher


@dataclass(frozen=True)
class Probe:
    """One held-out question, the matcher that should answer it, and the expected key (None: no match)."""

    matcher: Matcher
    question: str
    expected: str | None


@dataclass(frozen=True)
class Accuracy:
    correct: int
    total: int
    misses: tuple[tuple[str, str | None, str | None], ...]  # (question, expected, got)

    @property
    def rate(self) -> float:
        return self.correct / self.total if self.total else float("nan")


def accuracy(probes: Iterable[Probe]) -> Accuracy:
    """Share of probes whose matcher returns the expected key; matchers with `match_many` (the embedding
    kinds) answer their questions in one batch, the others one by one as an env step does."""
    probes = list(probes)
    groups: dict[int, list[int]] = {}
    for i, probe in enumerate(probes):
        groups.setdefault(id(probe.matcher), []).append(i)
    got: dict[int, str | None] = {}
    for indices in groups.values():
        matcher = probes[indices[0]].matcher
        questions = [probes[i].question for i in indices]
        many = getattr(matcher, "match_many", None)
        matches = many(questions) if many else [matcher.match(q) for q in questions]
        got.update({i: m.key if m else None for i, m in zip(indices, matches)})
    misses = tuple((p.question, p.expected, got[i]) for i, p in enumerate(probes) if got[i] != p.expected)
    return Accuracy(len(probes) - len(misses), len(probes), misses)


def probes_from(records: Iterable[dict], matcher_of: Callable[[dict], Matcher], key: str) -> list[Probe]:
    """Probes from paraphrase records (`question` and the expected key under `key`)."""
    return [Probe(matcher_of(r), r["question"], r.get(key)) for r in records]
