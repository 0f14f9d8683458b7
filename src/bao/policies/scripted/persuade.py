"""Scripted agents for PersuadeGym, measured against the offline persona (`bao.envs.persuade`).

- `heuristic`: argues from the claim alone, cycling through counter-argument templates (evidence, risks,
  fairness, alternatives...) that each name the claim and carry counter-evidence words; when the persona
  voices a reason it still holds, the next argument rebuts that reason.
- `oracle`: reads the persona's stored argument and rebuts one of its reasons per turn (the first one whose
  rebuttal is not a near-repeat of an earlier argument), which is the fastest the offline persona allows
  (one level per turn: "Strongly Disagree" in 6 turns).
- `answer-now`: one claim-based argument, then `[finish]`.
- `random`: random fragments of the claim and filler, now and then `[finish]`.
"""

from __future__ import annotations

import re

from bao.agent.render import render_tool_call
from bao.envs.persuade import STANCES, near_repeat, reasons_of
from bao.policies.base import Context, Policy

_CLAIM = re.compile(r"Claim that you oppose but the environment holds:\s*(.+)")
_HELD = re.compile(r"I still hold that (.+?) My stance remains:", re.DOTALL)
TEMPLATES = (
    "I disagree that {claim}. The evidence points the other way: studies of comparable policies show costs and "
    "unintended consequences that outweigh the promised benefits.",
    "Consider the risks: if {claim}, the burden falls hardest on people with the least power, which is unfair "
    "and hard to reverse once it is in place.",
    "However appealing it sounds that {claim}, real-world examples show the practical problems are "
    "underestimated: implementation, enforcement and oversight fail in predictable ways.",
    "There are better alternatives. Instead of accepting that {claim}, we could pursue targeted measures that "
    "reach the underlying goal with less harm and more accountability.",
    "The view that {claim} overlooks the long-term consequences: incentives shift, trust erodes, and the data "
    "we have suggests the downside grows over time.",
    "Ask who actually benefits if {claim}. Research suggests the gains are concentrated among a few while the "
    "dangers are spread across everyone else.",
    "Even supporters concede deep uncertainty. Before concluding that {claim}, we would need solid evidence, "
    "and the record so far is mixed at best, with several documented failures.",
)
REBUTTAL = ("You say that {reason} But that reasoning is flawed: the evidence does not support it, and it ignores "
            "the risks and costs that come with it.")


def claim_of(ctx: Context) -> str:
    """The claim as the task's first message states it, lowercased at the start and without its final stop."""
    match = _CLAIM.search(ctx.task.prompt[-1]["content"])
    claim = (match.group(1) if match else ctx.task.prompt[-1]["content"]).strip().rstrip(".!")
    return claim[:1].lower() + claim[1:]


def rebut(reason: str) -> str:
    return REBUTTAL.format(reason=reason[:1].lower() + reason[1:])


class HeuristicAgent(Policy):
    name = "heuristic"

    def act(self, ctx: Context) -> str:
        if ctx.observations:
            held = _HELD.search(ctx.observations[-1])
            if held:
                return render_tool_call("answer", rebut(held.group(1).strip()),
                                        "The user named the reason it still holds: rebut that reason.")
        used = sum(1 for choice, content, _ in ctx.history if choice == "answer" and not content.startswith("You say"))
        template = TEMPLATES[used % len(TEMPLATES)]
        return render_tool_call("answer", template.format(claim=claim_of(ctx)),
                                "Argue against the claim from a new angle, with evidence words.")


class OracleAgent(Policy):
    name = "oracle"

    def act(self, ctx: Context) -> str:
        reasons = reasons_of(ctx.task.hidden["claim"], ctx.task.hidden["argument"])
        needed = len(STANCES) - 1
        claim_turns = max(0, needed - len(reasons))  # claim arguments first, only if reasons run short
        if ctx.turn < claim_turns:
            return render_tool_call("answer", TEMPLATES[ctx.turn].format(claim=claim_of(ctx)))
        earlier = [content for _, content, _ in ctx.history]
        fresh = [rebut(r) for r in reasons if rebut(r) not in earlier]
        unrepeated = [arg for arg in fresh if not near_repeat(arg, earlier)]
        return render_tool_call("answer", (unrepeated or fresh or [rebut(reasons[0])])[0])


class AnswerNowAgent(Policy):
    name = "answer-now"

    def act(self, ctx: Context) -> str:
        if ctx.turn:
            return render_tool_call("finish", "")
        return render_tool_call("answer", TEMPLATES[0].format(claim=claim_of(ctx)))


class RandomAgent(Policy):
    name = "random"

    def act(self, ctx: Context) -> str:
        if ctx.rng.random() < 0.1:
            return render_tool_call("finish", "")
        words = claim_of(ctx).split() + "but however maybe people think it is good bad risk".split()
        return render_tool_call("answer", " ".join(ctx.rng.choice(words) for _ in range(ctx.rng.randint(3, 15))))


AGENTS: dict[str, type[Policy]] = {
    "random": RandomAgent,
    "answer-now": AnswerNowAgent,
    "heuristic": HeuristicAgent,
    "oracle": OracleAgent,
}
