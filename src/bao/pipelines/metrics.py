"""Evaluation metrics with 95% confidence intervals.

- `score`: mean task score, as UserRL and the BAO paper report it: the task reward R (sum of step rewards),
  except where the env defines its own score (travel: UserRL's aspect-averaged answer score);
- `R`: mean sum of step rewards (incl. shaping rewards such as travel's elicitation bonus);
- `success`: share of episodes that solved the task;
- `pass@U-k`: share of episodes solved within their first k user-involved actions (BAO paper's metric;
  user-involved under the env's effort rule, answers by default);
- `U` / `U_userrl`: mean user effort under the paper's rule / UserRL's (questions and answers);
- `UR`: mean share of an episode's turns that involved the user;
- `turns`, `invalid_rate` (share of all turns whose output could not be parsed);
- `redundant_rate`: share of questions that revealed nothing new (`bao.rewards.turn_flags`);
- `think_words`: mean words of reasoning (`<think>`) per turn;
- `loophole`: share of episodes solved through FunctionGym's near-test-case query (`via_loophole`; 0 elsewhere).
Proportions use the Wilson interval, means the normal approximation (1.96 standard errors). A metric with
nothing to measure (no episodes, or no questions for `redundant_rate`) is NaN in memory and `null` in JSON,
since JSON has no NaN and strict readers reject it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from bao.core.types import Trajectory
from bao.rewards import RewardConfig, turn_flags
from bao.rewards.overthinking import word_count

Z95 = 1.959964
PASS_K = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class Estimate:
    mean: float
    low: float
    high: float
    n: int

    def __str__(self) -> str:
        return f"{self.mean:.3f} [{self.low:.3f}, {self.high:.3f}]"


def mean_ci(values: Sequence[float]) -> Estimate:
    n = len(values)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    mean = sum(values) / n
    if n == 1:
        return Estimate(mean, mean, mean, 1)
    var = sum((v - mean) ** 2 for v in values) / (n - 1)
    half = Z95 * math.sqrt(var / n)
    return Estimate(mean, mean - half, mean + half, n)


def proportion_ci(successes: int, n: int) -> Estimate:
    """Wilson score interval: stays inside [0, 1] and behaves at 0 and n successes."""
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    p = successes / n
    denom = 1 + Z95**2 / n
    centre = (p + Z95**2 / (2 * n)) / denom
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / denom
    return Estimate(p, max(0.0, centre - half), min(1.0, centre + half), n)


def summarize(trajectories: Sequence[Trajectory]) -> dict[str, Estimate]:
    """All headline metrics of a set of episodes (pooled over tasks and seeds)."""
    n = len(trajectories)
    out = {
        "score": mean_ci([t.score for t in trajectories]),
        "R": mean_ci([t.R for t in trajectories]),
        "success": proportion_ci(sum(t.success for t in trajectories), n),
    }
    solved_at = [t.user_turn_of_success() for t in trajectories]
    for k in PASS_K:
        out[f"pass@U-{k}"] = proportion_ci(sum(1 for s in solved_at if s is not None and s <= k), n)
    out["U"] = mean_ci([t.U for t in trajectories])
    out["U_userrl"] = mean_ci([t.U_userrl for t in trajectories])
    out["UR"] = mean_ci([t.U / t.n_turns if t.n_turns else 0.0 for t in trajectories])
    out["turns"] = mean_ci([t.n_turns for t in trajectories])
    total_turns = sum(t.n_turns for t in trajectories)
    invalid = sum(1 for t in trajectories for turn in t.turns if turn.kind == "invalid")
    out["invalid_rate"] = proportion_ci(invalid, total_turns)
    flags = [f for t in trajectories for f in turn_flags(t.turns, RewardConfig())]
    out["redundant_rate"] = proportion_ci(sum(f["redundant"] for f in flags), sum(f["query"] for f in flags))
    out["think_words"] = mean_ci([word_count(turn.reasoning or "") for t in trajectories for turn in t.turns])
    loophole = sum(1 for t in trajectories if t.success and any(turn.info.get("via_loophole") for turn in t.turns))
    out["loophole"] = proportion_ci(loophole, n)
    return out


def to_json(metrics: dict[str, Estimate]) -> dict[str, dict[str, float | None]]:
    """Plain dicts for `json.dumps`, with undefined (NaN) values as None."""
    return {name: {key: _finite_or_none(value) for key, value in asdict(est).items()} for name, est in metrics.items()}


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None
