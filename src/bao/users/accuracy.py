"""Matcher accuracy on held-out paraphrase sets: does each question reach the fact it should (or none)?

Where a probe knows the user's reply for each key (`reply_of`), the reply-level rate is reported too: a
question matched to a neighbouring fact that the user answers the same way ("Yes.") looks right to the agent,
though the env's `info` then records the other fact as revealed.
"""

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
    reply_of: Callable[[str | None], str] | None = None  # the user's reply for a matched key (None: no match)


@dataclass(frozen=True)
class Accuracy:
    correct: int
    total: int
    misses: tuple[tuple[str, str | None, str | None], ...]  # (question, expected, got)
    same_reply: int | None = None  # probes given the expected key's reply (None: replies unknown)

    @property
    def rate(self) -> float:
        return self.correct / self.total if self.total else float("nan")

    @property
    def reply_rate(self) -> float | None:
        return None if self.same_reply is None else self.same_reply / self.total if self.total else float("nan")


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
    wrong = [i for i, p in enumerate(probes) if got[i] != p.expected]
    misses = tuple((probes[i].question, probes[i].expected, got[i]) for i in wrong)
    same_reply = None
    if probes and all(p.reply_of for p in probes):
        same_reply = len(probes) - sum(probes[i].reply_of(probes[i].expected) != probes[i].reply_of(got[i])
                                       for i in wrong)
    return Accuracy(len(probes) - len(misses), len(probes), misses, same_reply)


def probes_from(records: Iterable[dict], matcher_of: Callable[[dict], Matcher], key: str,
                reply_of: Callable[[dict], Callable[[str | None], str]] | None = None) -> list[Probe]:
    """Probes from paraphrase records (`question` and the expected key under `key`)."""
    return [Probe(matcher_of(r), r["question"], r.get(key), reply_of(r) if reply_of else None) for r in records]
