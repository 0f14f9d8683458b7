"""Turn rewards: the env's task reward plus named, separately logged shaping components (BAO stage 2)."""

from bao.rewards.paper import paper_shaping
from bao.rewards.shaping import COMPONENTS, RewardConfig, turn_flags, turn_rewards

__all__ = ["COMPONENTS", "RewardConfig", "paper_shaping", "turn_flags", "turn_rewards"]
