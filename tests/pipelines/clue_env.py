"""A tiny environment with one right behaviour, for the learning tests of the RL trainer.

The agent may ask for the clue (`[action] clue`, a question: user effort) and then answer (`[answer] 7`):
that pays 1. Answering at once pays 0.25 (a lucky guess's expected value). So with no effort cost the right
behaviour is to ask first; with an effort cost above 0.75 a question costs more than it earns, and answering
at once is right.
"""

from __future__ import annotations

from bao.core.types import Action, ActionKind, StepResult, Task
from bao.envs.base import Env, EnvSpec

ASK = "[action] clue"
ANSWER = "[answer] 7"


class ClueEnv(Env):
    spec = EnvSpec(name="clue", description="ask for the clue, then answer", choices=("action", "answer"),
                   action_kind=ActionKind.ASK, user_kinds=frozenset({ActionKind.ASK}), max_steps=3)

    def tasks(self, split: str) -> list[Task]:
        prompt = [{"role": "system", "content": "Find the hidden number."},
                  {"role": "user", "content": "Ask for the clue or answer."}]
        return [Task(id=f"clue-{i}", env="clue", split=split, prompt=prompt) for i in range(4)]

    def _reset(self, task: Task, seed: int) -> None:
        self.asked = False

    def _step(self, action: Action) -> StepResult:
        if action.kind is ActionKind.ASK:
            redundant, self.asked = self.asked, True
            return StepResult("The number is 7.", 0.0, False, {"revealed": ["clue"], "redundant": redundant})
        if action.kind is ActionKind.ANSWER:
            return StepResult("Done.", 1.0 if self.asked else 0.25, True, {"success": self.asked})
        return StepResult("Use [action] clue or [answer] N.", 0.0, False, {})


def first_turn() -> list[dict]:
    """The messages an episode opens with (every task has the same)."""
    return ClueEnv().tasks("train")[0].prompt
