"""Teachers: scripted policies that play well and write BAO's behaviors, one module per environment.

Each module exposes `TEACHER`, a `Teacher` subclass (see `bao.policies.teachers.base`).
"""

from __future__ import annotations

import importlib

from bao.policies.teachers.base import BEHAVIOR_MODES, Move, Teacher

_MODULES = {
    "function": "bao.policies.teachers.function",
    "intention": "bao.policies.teachers.intention",
    "telepathy": "bao.policies.teachers.telepathy",
    "travel": "bao.policies.teachers.travel",
    "turtle": "bao.policies.teachers.turtle",
}

__all__ = ["BEHAVIOR_MODES", "Move", "Teacher", "available", "make_teacher", "teacher_class"]


def available() -> list[str]:
    return list(_MODULES)


def teacher_class(env: str) -> type[Teacher]:
    if env not in _MODULES:
        raise KeyError(f"no teacher for environment {env!r}: teachers exist for {', '.join(_MODULES)}")
    return importlib.import_module(_MODULES[env]).TEACHER


def make_teacher(env: str, behaviors: str = "bao", max_turns: int = 16) -> Teacher:
    """The teacher of `env`, writing behaviors `bao` (the grammar) or `none` (same moves, no reasoning)."""
    return teacher_class(env)(behaviors, max_turns)
