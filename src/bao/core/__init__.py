"""Core types shared by every layer: plain dataclasses, no torch."""

from bao.core.types import (
    Action,
    ActionKind,
    StepResult,
    Task,
    TokenRecord,
    Trajectory,
    Turn,
)

__all__ = ["Action", "ActionKind", "StepResult", "Task", "TokenRecord", "Trajectory", "Turn"]
