"""The BAO authors' reward shaping, bit for bit: `functiongym_reward_cal` of their released code.

Source: github.com/yihangyao/BAO (commit 29c3aaa), `verl/trainer/ppo/core_algos.py`; specified in
`shared/docs/BAO_RECIPE.md` section 4.1 and its edge cases in 7.6. It is applied to every gym despite its name.
Only failed episodes are touched, and "failed" is read from the raw rewards alone:

- information seeking (repeated answer): if sum(r) <= 0 and lambda_IS > 0, every turn t >= 1 whose choice and
  the previous turn's choice are both the exact string "answer" is *set* to -lambda_IS (an assignment);
- over-thinking (early termination): if lambda_OT > 0, sum(r) == 0 (exact float equality) and T' < 15 (the
  horizon is hard-coded at 15 while the rollout allows 16 turns), P = lambda_OT * (15 - T') + 0.2 is spread as
  -P / (T' + 1) over turns 1..T'-1, so turn 0 is exempt and the realised total is P (T'-1) / (T'+1); a
  one-turn episode gets -0.5 on its only turn instead, whatever lambda_OT is.
"""

from __future__ import annotations

from collections.abc import Sequence

PAPER_HORIZON = 15


def paper_shaping(
    rewards: Sequence[float],
    choices: Sequence[str],
    lambda_ot: float,
    lambda_is: float,
    horizon: int = PAPER_HORIZON,
) -> list[float]:
    """Shaped per-turn rewards r_t + p_t of one episode (BAO_RECIPE.md 4.1); the inputs are not modified."""
    n = len(rewards)
    penalty = [0.0] * n
    total = sum(rewards)
    if total <= 0 and lambda_is > 0:
        for t in range(1, n):
            if choices[t] == "answer" and choices[t - 1] == "answer":
                penalty[t] = -lambda_is
    if lambda_ot > 0 and total == 0:
        penalty = [p + e for p, e in zip(penalty, early_stop_penalty(n, lambda_ot, horizon))]
    return [r + p for r, p in zip(rewards, penalty)]


def early_stop_penalty(n: int, coef: float, horizon: int = PAPER_HORIZON, base: float = 0.2,
                       single: float = 0.5) -> list[float]:
    """Per-turn early-termination penalty of a failed episode of `n` turns (nothing from `horizon` turns on)."""
    if n == 0 or n >= horizon:
        return [0.0] * n
    if n == 1:
        return [-single]
    delta = (coef * (horizon - n) + base) / (n + 1)
    return [0.0] + [-delta] * (n - 1)
