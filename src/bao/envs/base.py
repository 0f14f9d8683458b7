"""The environment contract: `reset(task, seed)` returns the first observation, `step(action)` a `StepResult`.

Environments know nothing of policies, tokenisers or trainers. Limits, logging and metrics live outside them
(rollout, pipelines). Same task + same seed => the same episode.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from bao.core.types import Action, ActionKind, StepResult, Task

PAPER_EFFORT = frozenset({ActionKind.ANSWER})
USERRL_EFFORT = frozenset({ActionKind.ASK, ActionKind.ANSWER})


# The `info` keys every env reports; an env sets the ones it knows, the rest keep these defaults.
INFO_DEFAULTS = {"success": False, "revealed": [], "redundant": False, "info_gain_bits": None, "matched": None,
                 "match_score": 0.0}


class EpisodeOver(RuntimeError):
    """Raised by `step` after the episode ended (UserRL's gyms raise there too)."""


@dataclass(frozen=True)
class EnvSpec:
    """What the rest of bao needs to know about an environment.

    `action_kind` is what the wire choice `action` means here (a question to the user, or an operation on the
    environment). `user_kinds` are the action kinds that count as user effort U (the BAO paper counts answers,
    each checked by the user); `USERRL_EFFORT` is always reported beside it as `U_userrl`.
    """

    name: str
    description: str
    choices: tuple[str, ...]
    action_kind: ActionKind = ActionKind.ASK
    user_kinds: frozenset[ActionKind] = PAPER_EFFORT
    max_steps: int = 16
    backends: tuple[str, ...] = ("offline",)
    splits: tuple[str, ...] = ("train", "test")
    extra: dict = field(default_factory=dict)


class Env(ABC):
    """Base class of bao environments: tracks the step count and the end of the episode."""

    spec: EnvSpec

    def __init__(self, max_steps: int | None = None) -> None:
        self.max_steps = max_steps or self.spec.max_steps
        self.task: Task | None = None
        self.seed = 0
        self.steps = 0
        self.done = False

    @abstractmethod
    def tasks(self, split: str) -> list[Task]:
        """The task pool of a split, in a fixed order."""

    def reset(self, task: Task, seed: int = 0) -> str:
        """Start an episode on `task`; returns the first observation (the task's last prompt message)."""
        self.task, self.seed, self.steps, self.done = task, seed, 0, False
        self._reset(task, seed)
        return task.prompt[-1]["content"]

    def step(self, action: Action) -> StepResult:
        """Apply one agent action. Every step counts toward `max_steps`, invalid ones too (as in UserRL)."""
        if self.task is None:
            raise RuntimeError("call reset(task, seed) before step()")
        if self.done:
            raise EpisodeOver("Episode is complete. Call reset() to start a new episode.")
        self.steps += 1
        result = self._step(action)
        truncated = self.steps >= self.max_steps
        terminated = bool(result.info.get("terminated", result.done))
        for key, value in INFO_DEFAULTS.items():
            result.info.setdefault(key, list(value) if isinstance(value, list) else value)
        result.info.setdefault("kind", action.kind.value)
        result.info["terminated"] = terminated
        result.info["truncated"] = truncated
        result.info["user_involved"] = action.kind in self.spec.user_kinds
        result.info["user_involved_userrl"] = action.kind in USERRL_EFFORT
        result.done = terminated or truncated
        self.done = result.done
        return result

    def _reset(self, task: Task, seed: int) -> None:  # noqa: B027 (optional hook, a no-op unless overridden)
        """Hook for per-episode state."""

    @abstractmethod
    def _step(self, action: Action) -> StepResult:
        """Env-specific step; set `done` for termination (truncation is handled by `step`)."""
