"""Per-turn rewards as named components: the env's task reward plus BAO's shaping, each logged on its own.

An episode's shaped return is the sum of all components over its turns. With only `w` set it is R - w*U, the
objective BAO trades along its Pareto frontier. The components (all 0 unless their coefficient is set):

- `task`: the env's reward r_t.
- `effort`: -w on a user-involved turn (the env's `user_kinds`); BAO paper, R - w*U.
- `redundant`: -lambda_is on a question that revealed nothing new (env flag `redundant`, or 0 bits gained);
  BAO's information-seeking regularizer, generalised from the recipe's "two answers in a row" to any gym that
  knows what a question revealed.
- `overthink`: -lambda_ot on reasoning that loops, restates the previous turn, or runs past a budget; BAO's
  over-thinking regularizer, generalised (`bao.rewards.overthinking`).
- `early_stop`: the released recipe's early-termination penalty of a failed episode, spread over turns
  1..T-1 (BAO_RECIPE.md 4.1), with the horizon and constants as parameters.
- `info_gain`: +lambda_ig per bit the env reports in `info_gain_bits`; bao's own, after InfoPO's idea of
  crediting turns whose feedback narrows the hypotheses.
- `invalid`: -invalid on an output that could not be parsed; bao's own (default 0: the wasted turn already
  costs).

The flags behind them (`turn_flags`) are kept beside the components so that reports can show why a turn was
penalised.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

from bao.core.types import Trajectory, Turn
from bao.rewards.overthinking import loop_share, restated_share, word_count
from bao.rewards.paper import early_stop_penalty

COMPONENTS = ("task", "effort", "redundant", "overthink", "early_stop", "info_gain", "invalid")
FLAGS = ("user", "query", "redundant", "loop", "restate", "over_budget", "invalid")


@dataclass(frozen=True)
class RewardConfig:
    """Coefficients of the shaping components; every one defaults to off (0) so the reward is the env's."""

    w: float = 0.0  # effort cost of every user-involved turn
    lambda_is: float = 0.0  # penalty of a redundant question
    lambda_ot: float = 0.0  # penalty of a turn whose reasoning loops, restates or runs over budget
    loop_ngram: int = 3  # word n-gram size of the loop and restate detectors
    loop_share: float = 0.5  # a reasoning with at least this share of repeated n-grams loops
    restate_share: float = 0.9  # a reasoning whose n-gram overlap with the previous turn's reaches this restates
    think_budget: int = 0  # words of reasoning per turn before it counts as over-thinking; 0 = no budget
    early_stop: float = 0.0  # early-termination penalty per turn left before the horizon (recipe: lambda_OT)
    early_stop_base: float = 0.2  # the recipe's constant added to it
    early_stop_single: float = 0.5  # a failed one-turn episode's penalty instead
    horizon: int = 15  # the recipe's 15 for 16 allowed turns; episodes this long or longer are not penalised
    lambda_ig: float = 0.0  # bonus per bit of information gain the env reports
    invalid: float = 0.0  # penalty of an unparseable output

    def __post_init__(self) -> None:
        for f in fields(self):
            if getattr(self, f.name) < 0:
                raise ValueError(f"reward {f.name} must be >= 0, got {getattr(self, f.name)}")
        if self.loop_ngram < 1 or self.horizon < 1:
            raise ValueError("reward loop_ngram and horizon must be >= 1")
        for name in ("loop_share", "restate_share"):
            if not 0 < getattr(self, name) <= 1:
                raise ValueError(f"reward {name} must be in (0, 1], got {getattr(self, name)}")


def turn_flags(turns: Sequence[Turn], config: RewardConfig) -> list[dict[str, bool]]:
    """Per turn, the facts the shaping reads: which of `FLAGS` hold."""
    out = []
    previous = ""
    for turn in turns:
        query = turn.kind == "ask"
        gain = turn.info.get("info_gain_bits")
        reasoning = turn.reasoning or ""
        out.append({
            "user": turn.user_involved,
            "query": query,
            "redundant": query and (bool(turn.info.get("redundant")) or gain == 0),
            "loop": loop_share(reasoning, config.loop_ngram) >= config.loop_share,
            "restate": restated_share(reasoning, previous, config.loop_ngram) >= config.restate_share,
            "over_budget": config.think_budget > 0 and word_count(reasoning) > config.think_budget,
            "invalid": turn.kind == "invalid",
        })
        previous = reasoning
    return out


def turn_rewards(traj: Trajectory, config: RewardConfig) -> list[dict[str, float]]:
    """Per turn of `traj`, the value of every component of `COMPONENTS` (their sum is the shaped reward)."""
    flags = turn_flags(traj.turns, config)
    early = _early_stop(traj, config)
    out = []
    for turn, flag, stop in zip(traj.turns, flags, early):
        gain = turn.info.get("info_gain_bits")
        out.append({
            "task": float(turn.reward),
            "effort": -config.w if flag["user"] else 0.0,
            "redundant": -config.lambda_is if flag["redundant"] else 0.0,
            "overthink": -config.lambda_ot if flag["loop"] or flag["restate"] or flag["over_budget"] else 0.0,
            "early_stop": stop,
            "info_gain": config.lambda_ig * float(gain) if gain else 0.0,
            "invalid": -config.invalid if flag["invalid"] else 0.0,
        })
    return out


def _early_stop(traj: Trajectory, config: RewardConfig) -> list[float]:
    """The recipe's early-termination penalty (BAO_RECIPE.md 4.1, second rule), on failed episodes only.

    Generalised: "failed" is "not solved and no positive task reward" (the recipe: raw sum exactly 0), and the
    horizon and constants are parameters. Turn 0 is exempt, as in the recipe.
    """
    n = len(traj.turns)
    if config.early_stop <= 0 or traj.success or sum(t.reward for t in traj.turns) > 0:
        return [0.0] * n
    return early_stop_penalty(n, config.early_stop, config.horizon, config.early_stop_base, config.early_stop_single)
