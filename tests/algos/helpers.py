"""Small builders for estimator tests."""

from __future__ import annotations

from bao.algos import Episode


def episode(group, task, choices=None, tokens=None, **components) -> Episode:
    """An episode of per-turn task rewards; `choices` default to 'action' then 'answer' on the last turn."""
    if choices is None:
        choices = ["action"] * (len(task) - 1) + ["answer"] if task else []
    return Episode(group=group, components={"task": list(task), **components}, choices=choices, span_tokens=tokens)
