"""`grpo`: outcome-only GRPO, the usual baseline (Shao et al. 2024, DeepSeekMath, section 4.1.2 "outcome supervision").

Every policy token of episode b gets the same advantage

    A_b = (G_b - mean_group G) / (std_group G + eps),   G_b = sum_t x_t (the episode's return),

with x_t = task + effort, so G_b = R - w*U. The group is the episodes of one task under one simulated-user
seed; std is unbiased (n - 1). bao's choices, where implementations differ: a group of one has no baseline and
gets 0 (verl would give G_b / (1 + eps)), and a group of equal returns gets exactly 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bao.algos.base import Advantages, Episode, batch_stats, check_common, group_advantages, register


@dataclass(frozen=True)
class GRPOConfig:
    epsilon: float = 1e-6
    norm_std: bool = True  # divide by the group std (Dr. GRPO argues for False)
    components: tuple[str, ...] = ("task", "effort")  # reward components summed into the return

    def __post_init__(self) -> None:
        check_common(1.0, self.epsilon)


@register("grpo", GRPOConfig)
def grpo(episodes: Sequence[Episode], config: GRPOConfig) -> Advantages:
    rewards = [ep.reward(config.components) for ep in episodes]
    returns = [sum(x) for x in rewards]
    adv = group_advantages(returns, [ep.group for ep in episodes], config.norm_std, config.epsilon)
    turns = [[a] * len(ep.spans) for ep, a in zip(episodes, adv)]
    credits = [[1.0] * len(x) for x in rewards]
    return Advantages(turns, returns, credits, rewards, batch_stats(episodes, returns, adv))
