"""`userrl`: UserRL's multi-turn GRPO (`compute_grpo_multiturn_advantage`), exactly as its code runs it.

Source: SalesforceAIResearch/UserRL (commit cf55a30), `verl/trainer/ppo/core_algos.py`; specified in
`shared/docs/BAO_RECIPE.md` 4.2-4.3 and checked on the recorded cases of `shared/conformance` (`bao.algos.cases`).
For episode b with per-turn rewards x_t (t < T'):

    credit a_t   Equalized: 1 | R2G: sum_{j>=t} gamma^(j-t) x_j | EM: round(0.5 + 0.5 (1 - e^(-2 x_t)) / (1 - e^-2), 4)
    score  S_b   Sum: round(mean_t x_t, 4)  (UserRL's "Sum" is the mean) | R2G: sum_t gamma^t x_t
    A_hat_b      (S_b - mean_group S) / (std_group S + eps), unbiased std; a group of one: S_b / (1 + eps)
    token adv    a_k * A_hat_b * N_b / Sigma_b on span k (Sigma_b = sum of token credits, N_b = tokens with
                 non-zero credit; 0 for the whole row when Sigma_b = 0)

so the mean advantage over a row's credited tokens equals A_hat_b. Departures, all below float32 noise: float64
arithmetic, and exactly 0 for a group of equal scores where the reference's float32 mean/std leave ~1e-2
(BAO_RECIPE.md 7.3). Inferred, not in the reference: x_t = task + effort, so that `w` reaches this estimator
too (with w = 0, the default, x_t is the env's reward as in UserRL).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bao.algos.base import Advantages, Episode, batch_stats, check_common, group_advantages, register
from bao.algos.credit import CREDITS, SCORES, rescale, trajectory_score


@dataclass(frozen=True)
class UserRLConfig:
    credit: str = "equalized"  # turn credit: equalized | r2g | em (UserRL's default script: Equalized)
    score: str = "sum"  # trajectory score: sum (the mean turn reward) | r2g (the discounted return)
    gamma: float = 0.8  # discount of R2G credits and scores (UserRL's and BAO's scripts: 0.8)
    epsilon: float = 1e-6
    norm_std: bool = True  # divide by the group std (verl's norm_adv_by_std_in_grpo)
    components: tuple[str, ...] = ("task", "effort")  # reward components summed into x_t

    def __post_init__(self) -> None:
        check_methods(self.credit, self.score)
        check_common(self.gamma, self.epsilon)


def check_methods(credit: str, score: str) -> None:
    if credit not in CREDITS:
        raise ValueError(f"algo credit must be one of {', '.join(CREDITS)}, got {credit!r}")
    if score not in SCORES:
        raise ValueError(f"algo score must be one of {', '.join(SCORES)}, got {score!r}")


def multiturn_advantages(
    episodes: Sequence[Episode],
    rewards: list[list[float]],
    config: UserRLConfig,
    mean_score: bool,
) -> Advantages:
    """The shared body of `userrl` and `bao-paper`: credits and scores from `rewards`, group advantage, rescale."""
    credit = CREDITS[config.credit]
    credits = [credit(x, config.gamma) for x in rewards]
    scores = [trajectory_score(x, config.score, config.gamma, mean_score) for x in rewards]
    adv = group_advantages(scores, [ep.group for ep in episodes], config.norm_std, config.epsilon,
                           singleton_as_verl=True)
    turns = [rescale(c, ep.spans, a) for c, ep, a in zip(credits, episodes, adv)]
    return Advantages(turns, scores, credits, rewards, batch_stats(episodes, scores, adv))


@register("userrl", UserRLConfig)
def userrl(episodes: Sequence[Episode], config: UserRLConfig) -> Advantages:
    return multiturn_advantages(episodes, [ep.reward(config.components) for ep in episodes], config, mean_score=True)
