"""The LLM teacher: an OpenAI-compatible model rewrites a scripted teacher's reasoning in the behavior grammar.

The scripted teacher fixes the moves (so the episode still succeeds); the LLM only writes the words. For each
turn it sees what the agent saw (the task prompt and the turns before, never `task.hidden`), the move the
agent is about to make, and the scripted behavior as a draft, and must answer with the four grammar lines.
An episode is kept only if every rewritten turn parses (`parse_behavior`); the budget is always set to the
true one, since a model miscounting turns should not teach miscounting. A teacher's broken turn (see
`bao.policies.teachers.base`) is kept as it is. The dataset builder still runs the no-cheating audit on the
result.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bao.agent.behaviors import BehaviorError, parse_behavior, render_behavior
from bao.agent.parse import parse_action
from bao.agent.render import render_tool_call
from bao.core.types import Trajectory, Turn
from bao.policies.teachers.base import is_broken, played_turns

SYSTEM = """You annotate the turns of an agent that plays an interactive task. For the turn you are shown, write \
the agent's reasoning before its move in exactly four lines:
Known: <fact>; <fact>; ...        (what the user or environment has told so far)
Alive: <hypothesis>; ...          (hypotheses still consistent with what is known)
Ruled out: <hypothesis>; ...      (hypotheses eliminated so far)
Plan: <the next move and why> (budget <k> left)
Write `nothing yet` for an empty list. Items hold no `;`. State only what the conversation shows; \
never guess at hidden facts. Answer with the four lines only."""


@dataclass
class AnnotatorConfig:
    """Which model rewrites the reasoning, and how."""

    model: str
    temperature: float = 0.0


def _transcript(traj: Trajectory, upto: int) -> str:
    lines = [f"[{m['role']}] {m['content']}" for m in traj.messages[:2]]
    for turn in traj.turns[:upto]:
        lines += [f"[agent move] {turn.kind}: {turn.content}", f"[reply] {turn.observation}"]
    return "\n".join(lines)


def annotation_request(traj: Trajectory, turn: Turn, config: AnnotatorConfig) -> dict:
    """The chat request that asks for one turn's reasoning."""
    user = (f"Conversation so far:\n{_transcript(traj, turn.index)}\n\n"
            f"The agent's next move: {turn.kind}: {turn.content}\n"
            f"Draft reasoning (rewrite it, keep it truthful):\n{turn.reasoning}\n\n"
            f"Turns left including this one: {_budget(turn)}")
    return {"model": config.model, "temperature": config.temperature,
            "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]}


def _budget(turn: Turn) -> int:
    return parse_behavior(turn.reasoning).budget


def rewrite(traj: Trajectory, answers: list[str]) -> Trajectory | None:
    """`traj` with the reasoning of each played turn (`played_turns`: a broken one has no reasoning in the
    grammar to rewrite) replaced by the LLM's answer, or None when an answer breaks the grammar."""
    if len(answers) != len(played_turns(traj)):
        raise ValueError(f"{len(answers)} answers for {len(played_turns(traj))} turns")
    turns, messages = [], [dict(m) for m in traj.messages[:2]]
    answers = iter(answers)
    for turn in traj.turns:
        if not is_broken(turn):
            try:
                reasoning = render_behavior(replace(parse_behavior(next(answers) or ""), budget=_budget(turn)))
            except BehaviorError:
                return None
            action = parse_action(turn.output)
            turn = replace(turn, output=render_tool_call(action.choice, action.content, reasoning), reasoning=reasoning)
        turns.append(turn)
        messages += [{"role": "assistant", "content": turn.output}, {"role": "tool", "content": turn.observation}]
    return replace(traj, turns=turns, messages=messages, policy=f"{traj.policy}+llm")


def annotate(trajectories: list[Trajectory], client, config: AnnotatorConfig) -> list[Trajectory | None]:
    """Rewrite every trajectory's reasoning with one request per turn (sent concurrently by `client.chat_many`)."""
    requests = [annotation_request(t, turn, config) for t in trajectories for turn in played_turns(t)]
    answers = [a["content"] for a in client.chat_many(requests)]
    out, at = [], 0
    for traj in trajectories:
        n = len(played_turns(traj))
        out.append(rewrite(traj, answers[at : at + n]))
        at += n
    return out
