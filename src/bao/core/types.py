"""The data every layer passes around: tasks, actions, step results, turns and trajectories.

These are plain dataclasses with no torch so that environments, parsing, rewards and evaluation stay
importable on any machine. A `Trajectory` round-trips through JSON (one line of a JSONL file).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any


# Not StrEnum: str(ActionKind.ASK) is 'ActionKind.ASK' here, and StrEnum would change it to 'ask'.
class ActionKind(str, Enum):  # noqa: UP042
    """What the agent did in a turn.

    `ask` is an `action` addressed to the user (a question); `act` an `action` addressed to the environment;
    `search` a lookup; `answer` a final or candidate answer; `finish` gives up (UserRL's `[finish]`);
    `invalid` an output that could not be parsed.
    """

    ASK = "ask"
    ACT = "act"
    SEARCH = "search"
    ANSWER = "answer"
    FINISH = "finish"
    INVALID = "invalid"


@dataclass(frozen=True)
class Task:
    """One task of an environment.

    `prompt` holds the chat messages the agent starts from (system prompt with the action space, then the
    first user message); `hidden` holds what only the environment and the user may see (the rule, the entity,
    the missing details). Scripted oracles read `hidden`; nothing shown to a learning agent does.
    """

    id: str
    env: str
    split: str
    prompt: list[dict[str, str]]
    hidden: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Action:
    """A parsed agent output.

    `choice` is the wire choice (`action`, `search`, `answer`, `finish`, or "" when none was found),
    `content` its argument as the agent wrote it, `wire` the exact string a UserRL gym would receive
    (`[answer] 225`), `reasoning` the `<think>` block if any, `raw` the full text the model wrote, and
    `error` why the output is invalid (empty when it is valid).
    """

    kind: ActionKind
    content: str = ""
    choice: str = ""
    reasoning: str = ""
    raw: str = ""
    error: str = ""
    wire: str = ""

    @property
    def valid(self) -> bool:
        return self.kind is not ActionKind.INVALID


@dataclass
class StepResult:
    """What `Env.step` returns: the observation text, the step reward, whether the episode is over, and facts.

    `info` always carries `kind` (the action kind the env saw) and `user_involved` (whether the turn reached
    the user); envs add what they know, e.g. `revealed`, `redundant`, `info_gain_bits`, `correct`,
    `truncated`, `terminated`.
    """

    observation: str
    reward: float
    done: bool
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class TokenRecord:
    """Token-in, token-out record of an LLM episode.

    `ids` is the whole conversation as the policy saw and wrote it; `mask[i] == 1` marks tokens the policy
    sampled (trained on), 0 the prompt and environment tokens; `logprobs[i]` is the sampling log-prob of a
    policy token (0.0 elsewhere), log softmax(logits / temperature) before any top-p cut, so a trainer
    recomputes the same quantity; `turn_starts` are the positions of each turn's first policy token.
    """

    ids: list[int] = field(default_factory=list)
    mask: list[int] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)
    turn_starts: list[int] = field(default_factory=list)
    temperature: float = 1.0


@dataclass
class Turn:
    """One agent turn: what it wrote, how it was parsed, what came back, and the reward it earned."""

    index: int
    output: str
    kind: str
    content: str
    reasoning: str
    observation: str
    reward: float
    done: bool
    user_involved: bool
    error: str = ""
    reward_components: dict[str, float] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class Trajectory:
    """One episode.

    `R` is the task reward (sum of step rewards, as UserRL scores), `score` the env's headline score (R,
    unless the env reports its own `score` in `info`, as travel does with UserRL's travel score), `U` the user
    effort under the env's effort rule (BAO paper: answers checked by the user), `U_userrl` the effort under
    UserRL's framing (questions and answers), `success` whether the task was solved, `stop_reason` why it
    ended (`done`, `max_turns`, `max_tokens`, `context_limit`).
    """

    env: str
    task_id: str
    seed: int
    policy: str
    messages: list[dict[str, str]]
    turns: list[Turn] = field(default_factory=list)
    R: float = 0.0
    score: float = 0.0
    U: int = 0
    U_userrl: int = 0
    success: bool = False
    stop_reason: str = ""
    tokens: TokenRecord | None = None

    @property
    def n_turns(self) -> int:
        return len(self.turns)

    def user_turn_of_success(self) -> int | None:
        """1-based count of user-involved turns up to and including the one that solved the task, if any."""
        count = 0
        for turn in self.turns:
            if turn.user_involved:
                count += 1
            if turn.info.get("success"):
                return max(count, 1)
        return None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["n_turns"] = self.n_turns
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Trajectory:
        data = dict(data)
        data.pop("n_turns", None)
        turns = [Turn(**t) for t in data.pop("turns", [])]
        tokens = data.pop("tokens", None)
        return cls(**data, turns=turns, tokens=TokenRecord(**tokens) if tokens else None)


def write_jsonl(path: str | Path, trajectories: Iterable[Trajectory]) -> None:
    """Write trajectories one JSON object a line (atomically: a crash leaves the old file or the new one)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for traj in trajectories:
            fh.write(json.dumps(traj.to_dict(), ensure_ascii=False) + "\n")
    tmp.replace(path)


def read_jsonl(path: str | Path) -> Iterator[Trajectory]:
    """Read trajectories written by `write_jsonl`."""
    with Path(path).open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield Trajectory.from_dict(json.loads(line))
