"""Turn credits, trajectory scores and UserRL's token rescaling (BAO_RECIPE.md 4.2 and 4.3), on plain floats.

The arithmetic follows the reference's order of operations (Python's left-to-right `sum`, backward
recursions, `round(., 4)` where it rounds), so that scores and credits match it to the last bit; the token
advantages are computed in float64 where the reference uses float32 (they agree within 1e-5).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

_EM_SCALE = 1 - math.exp(-2)


def equalized(x: Sequence[float], gamma: float) -> list[float]:
    """Every turn gets credit 1."""
    return [1.0] * len(x)


def reward_to_go(x: Sequence[float], gamma: float) -> list[float]:
    """a_t = sum_{j >= t} gamma^(j - t) x_j, by the backward recursion a_t = x_t + gamma a_{t+1}."""
    out = [0.0] * len(x)
    running = 0.0
    for t in range(len(x) - 1, -1, -1):
        running = x[t] + gamma * running
        out[t] = running
    return out


def exponential_mapping(x: Sequence[float], gamma: float) -> list[float]:
    """UserRL's EM credit: round(0.5 + 0.5 (1 - e^(-2 x)) / (1 - e^(-2)), 4); 0.5 at x = 0, 1 at x = 1."""
    return [round(0.5 + 0.5 * (1 - math.exp(-2 * v)) / _EM_SCALE, 4) for v in x]


CREDITS = {"equalized": equalized, "r2g": reward_to_go, "em": exponential_mapping}
SCORES = ("sum", "r2g")


def trajectory_score(x: Sequence[float], method: str, gamma: float, mean: bool) -> float:
    """`sum`: round(sum(x) / T', 4) when `mean` (UserRL) or round(sum(x) / 1.0, 4) (BAO); `r2g`: the
    discounted return sum_t gamma^t x_t. An empty episode scores 0."""
    if not x:
        return 0.0
    if method == "sum":
        return round(sum(x) / (len(x) if mean else 1.0), 4)
    return reward_to_go(x, gamma)[0]


def rescale(credits: Sequence[float], span_tokens: Sequence[int], advantage: float) -> list[float]:
    """UserRL's token rescaling: per-span token advantages whose mean over tokens with non-zero credit is
    `advantage` (BAO_RECIPE.md 4.3 step 4).

    Span k holds `span_tokens[k]` policy tokens with credit `credits[k]` (spans beyond the credits get 0).
    Sigma = sum of the token credits, N = the number of tokens with non-zero credit; each token gets
    credit * advantage * N / Sigma, and the whole row gets 0 when Sigma is 0 (7.4: such rows are erased).
    """
    spans = min(len(credits), len(span_tokens))
    total = math.fsum(credits[k] * span_tokens[k] for k in range(spans))
    count = sum(span_tokens[k] for k in range(spans) if credits[k] != 0)
    out = [0.0] * len(span_tokens)
    if total == 0:
        return out
    factor = advantage * count / total
    for k in range(spans):
        out[k] = credits[k] * factor if span_tokens[k] else 0.0
    return out
