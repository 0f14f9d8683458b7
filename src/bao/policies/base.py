"""The policy contract shared by scripted agents, local LLMs and API-served models.

A policy reads the conversation so far and returns the next assistant message as text; the environment's
parser turns the text into an action. Policies see `Context.task` only for its public parts (`prompt`);
`task.hidden` is there for oracles and teachers, and a learning policy never reads it.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field

from bao.agent.parse import parse_action
from bao.core.types import Task, Turn
from bao.policies.seeds import turn_seed


@dataclass
class Context:
    """One episode as a policy sees it before its next turn.

    `messages` are chat messages: the task prompt (system, user), then for every turn the assistant message
    and the environment's observation (role `tool`). `rng` is seeded from (seed, task id) so that scripted
    randomness is reproducible per episode whatever the batch order. `draw` tells apart episodes that share
    their task and seed (and so the simulated user's answers), such as the members of a GRPO group: each
    draw samples its own turns.
    """

    task: Task
    messages: list[dict[str, str]]
    seed: int
    turn: int = 0
    rng: random.Random = field(default_factory=random.Random)
    draw: int = 0

    @property
    def sampling_seed(self) -> int:
        """The seed of this turn's sampling: same (seed, task, draw, turn) => same draws, whatever the batch."""
        key = self.task.id if self.draw == 0 else f"{self.task.id}#{self.draw}"
        return turn_seed(self.seed, key, self.turn)

    @property
    def observations(self) -> list[str]:
        """The environment's replies so far, oldest first."""
        return [m["content"] for m in self.messages if m["role"] == "tool"]

    @property
    def history(self) -> list[tuple[str, str, str]]:
        """(choice, content, reply) of every turn the environment has answered, oldest first: the
        conversation as moves, which scripted agents and teachers reason over."""
        return _moves((message["content"], reply["content"])
                      for message, reply in zip(self.messages, self.messages[1:]) if message["role"] == "assistant")

    @property
    def questions(self) -> list[tuple[str, str]]:
        """(question, reply) of every question asked the user so far (`action` turns), oldest first."""
        return [(content, reply) for choice, content, reply in self.history if choice == "action"]


def history_of(turns: Iterable[Turn]) -> list[tuple[str, str, str]]:
    """`Context.history` of a recorded episode whose turns so far are `turns`."""
    return _moves((turn.output, turn.observation) for turn in turns)


def _moves(exchanges: Iterable[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """(choice, content, reply) of each (assistant text, environment reply), the text parsed as an action."""
    return [(action.choice, action.content, reply)
            for text, reply in exchanges for action in (parse_action(text),)]


def episode_rng(seed: int, task_id: str) -> random.Random:
    """A private RNG for one episode: same (seed, task) -> same stream, independent of other episodes."""
    return random.Random(f"{seed}:{task_id}")


class Policy(ABC):
    """Writes the next assistant message. Override `act_batch` when a batch is cheaper than a loop (LLMs)."""

    name: str = "policy"

    @abstractmethod
    def act(self, ctx: Context) -> str:
        """The next assistant message for one episode."""

    def act_batch(self, contexts: list[Context]) -> list[str]:
        return [self.act(ctx) for ctx in contexts]
