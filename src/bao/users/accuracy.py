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
    correct, total, misses = 0, 0, []
    for probe in probes:
        match = probe.matcher.match(probe.question)
        got = match.key if match else None
        total += 1
        if got == probe.expected:
            correct += 1
        else:
            misses.append((probe.question, probe.expected, got))
    return Accuracy(correct, total, tuple(misses))


def probes_from(records: Iterable[dict], matcher_of: Callable[[dict], Matcher], key: str) -> list[Probe]:
    """Probes from paraphrase records (`question` and the expected key under `key`)."""
    return [Probe(matcher_of(r), r["question"], r.get(key)) for r in records]
