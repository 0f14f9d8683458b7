"""Over-thinking detectors on a turn's reasoning text: loops inside it, restating the previous turn, length.

They count whitespace-separated words, not tokens, so that rewards need no tokenizer and give the same
verdict for every model. Word n-grams are compared case-insensitively.

- **loop**: the share of the reasoning's word n-grams that repeat an earlier n-gram of the same reasoning. Prose
  that moves forward repeats almost none; the loops small models fall into (a list item written again and
  again, its number counting up, the same clause closed over and over) repeat most of theirs.
- **restate**: the Jaccard overlap of this turn's n-gram set with the previous turn's. BAO's retrospective
  reasoning restates what is known on purpose, but each turn adds a fact or a new plan; a turn whose
  reasoning is nearly all the previous one has not moved.
- **over budget**: more words of reasoning than a budget.
"""

from __future__ import annotations


def _ngrams(text: str, n: int) -> list[tuple[str, ...]]:
    words = text.lower().split()
    return [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]


def loop_share(text: str, n: int = 3) -> float:
    """Share of the word n-grams of `text` that already occurred earlier in it (0.0 when it has none)."""
    grams = _ngrams(text, n)
    return 1.0 - len(set(grams)) / len(grams) if grams else 0.0


def restated_share(text: str, previous: str, n: int = 3) -> float:
    """Jaccard overlap of the word n-gram sets of `text` and `previous` (0.0 when either has none)."""
    a, b = set(_ngrams(text, n)), set(_ngrams(previous, n))
    return len(a & b) / len(a | b) if a and b else 0.0


def word_count(text: str) -> int:
    return len(text.split())
