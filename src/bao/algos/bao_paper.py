"""`bao-paper`: the BAO authors' released recipe, bit for bit as their code runs it.

Source: github.com/yihangyao/BAO (commit 29c3aaa, a fork of UserRL's verl), `compute_grpo_multiturn_advantage`
with `functiongym_reward_cal`; specified in `shared/docs/BAO_RECIPE.md` and checked on the recorded cases of
`shared/conformance`. It is UserRL's multi-turn GRPO (`bao.algos.userrl`) with two changes:

- the per-turn rewards are first shaped by `bao.rewards.paper_shaping` (repeated answers in a failed episode
  -lambda_IS; a failed early stop -(lambda_OT (15 - T') + 0.2) / (T' + 1) on turns 1..T'-1; one turn -0.5),
  and every credit (EM included) and score reads the shaped rewards;
- the "Sum" score is the sum round(sum_t x_t, 4), not UserRL's mean.

Defaults are the released FunctionGym script's (`4B_train_functiongym-BAO-CR.sh`): R2G credit, Sum score,
gamma 0.8, lambda_OT 0.05, lambda_IS 0.005, std normalisation, eps 1e-6. Inferred, not in the recipe: the
effort cost -w per user-involved turn is added after the shaping, so the failure gates read the env's rewards
as in the recipe (with w = 0, the default, nothing changes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bao.algos.base import Advantages, Episode, check_common, register
from bao.algos.userrl import check_methods, multiturn_advantages
from bao.rewards.paper import PAPER_HORIZON, paper_shaping


@dataclass(frozen=True)
class BAOPaperConfig:
    credit: str = "r2g"  # turn credit: equalized | r2g | em
    score: str = "sum"  # trajectory score: sum (the sum of shaped rewards) | r2g (their discounted return)
    gamma: float = 0.8
    epsilon: float = 1e-6
    norm_std: bool = True
    lambda_ot: float = 0.05  # penalize_over_length_coef (the authors' second run: 0.01)
    lambda_is: float = 0.005  # repeated_question_pen_coef
    horizon: int = PAPER_HORIZON  # hard-coded 15 in the recipe

    def __post_init__(self) -> None:
        check_methods(self.credit, self.score)
        check_common(self.gamma, self.epsilon)
        if self.lambda_ot < 0 or self.lambda_is < 0:
            raise ValueError("algo lambda_ot and lambda_is must be >= 0")


@register("bao-paper", BAOPaperConfig)
def bao_paper(episodes: Sequence[Episode], config: BAOPaperConfig) -> Advantages:
    rewards = []
    for ep in episodes:
        shaped = paper_shaping(ep.reward(["task"]), ep.choices, config.lambda_ot, config.lambda_is, config.horizon)
        effort = ep.components.get("effort")
        rewards.append([x + e for x, e in zip(shaped, effort)] if effort is not None else shaped)
    return multiturn_advantages(episodes, rewards, config, mean_score=False)
