"""`bao` (the default): bao's generalisation of the BAO recipe, with turn-level credit and a turn-count-free baseline.

Per-turn rewards x_t are the sum of every shaping component of `bao.rewards` (task, effort -w, redundant
question -lambda_IS, over-thinking -lambda_OT, early termination, information gain, invalid), so the return is
R - w*U minus the regularizers. The advantage of every policy token of turn t of episode b is

    A_{b,t} = (G_{b,t} - mean_group G_{.,0}) / (std_group G_{.,0} + eps),   G_{b,t} = sum_{j>=t} gamma^(j-t) x_{b,j}

that is the reward-to-go from turn t against one baseline per group: the mean return of the group's
episodes. Why these choices (bao's own, not the recipe's):

- Reward-to-go (R2G credit) charges each turn for what follows it, never for what preceded it: a redundant
  question lowers its own advantage and that of the turns that led to it, not the answer that comes after.
- The baseline does not depend on how many turns an episode took. Normalising per turn index (comparing turn
  t of each episode with turn t of the others) is biased when the policy decides when to stop: the episodes
  that reach turn t are a population the policy selected. A group-level constant is an unbiased baseline for
  every turn.
- No rescaling of token credits: UserRL's rescale divides by the sum of credits, which flips signs and
  amplifies when credits mix signs (BAO_RECIPE.md 7.5) and erases a row whose credits sum to 0 (7.4); with
  effort costs, mixed signs are the normal case here.
- gamma defaults to 1, so that the turn credits add up to the objective R - w*U that BAO optimises.
- A group whose returns are all equal, or of one episode, gets 0 everywhere: it compares nothing, and the
  reward-to-go term alone would be pure noise there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bao.algos.base import Advantages, Episode, batch_stats, check_common, group_stats, register
from bao.algos.credit import reward_to_go
from bao.rewards.shaping import COMPONENTS


@dataclass(frozen=True)
class BAOConfig:
    gamma: float = 1.0  # discount of the reward-to-go
    epsilon: float = 1e-6
    norm_std: bool = True  # divide by the group std of returns
    components: tuple[str, ...] = COMPONENTS  # reward components summed into x_t

    def __post_init__(self) -> None:
        check_common(self.gamma, self.epsilon)


@register("bao", BAOConfig)
def bao(episodes: Sequence[Episode], config: BAOConfig) -> Advantages:
    rewards = [ep.reward(config.components) for ep in episodes]
    to_go = [reward_to_go(x, config.gamma) for x in rewards]
    returns = [g[0] if g else 0.0 for g in to_go]
    stats = group_stats(returns, [ep.group for ep in episodes])
    turns, adv = [], []
    for ep, g in zip(episodes, to_go):
        group = stats[ep.group]
        scale = group.std + config.epsilon if config.norm_std else 1.0
        live = group.std > 0  # more than one episode, and not all returns equal
        turns.append([(g[k] - group.mean) / scale if live and k < len(g) else 0.0 for k in range(len(ep.spans))])
        adv.append((g[0] - group.mean) / scale if live and g else 0.0)
    return Advantages(turns, returns, to_go, rewards, batch_stats(episodes, returns, adv))
