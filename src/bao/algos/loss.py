"""The policy loss of GRPO-style training: PPO's clipped surrogate per token, and an optional KL penalty.

Per policy token i with advantage A_i, the rollout's log-prob `old_i` and the current one `logp_i`:

    ratio_i = exp(logp_i - old_i)
    loss_i  = max(-A_i ratio_i, -A_i clip(ratio_i, 1 - eps, 1 + eps))          (Schulman et al. 2017, eq. 7)
    kl_i    = exp(ref_i - logp_i) - (ref_i - logp_i) - 1                       (the "k3" estimator, >= 0)

as GRPO uses them (Shao et al. 2024, eq. 3). Reduction over tokens is the trainer's (`loss_agg`). Needs torch;
`bao.algos` itself does not import this module.
"""

from __future__ import annotations

import torch


def clipped_surrogate(
    logp: torch.Tensor, old: torch.Tensor, advantages: torch.Tensor, clip_ratio: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-token clipped loss, and a 0/1 tensor marking the tokens where the clip was active."""
    ratio = torch.exp(logp - old)
    unclipped = -advantages * ratio
    clipped = -advantages * torch.clamp(ratio, 1 - clip_ratio, 1 + clip_ratio)
    return torch.maximum(unclipped, clipped), (clipped > unclipped).float()


def kl_k3(logp: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """Per-token KL(pi || pi_ref) estimate, unbiased and non-negative (Schulman's k3)."""
    delta = ref - logp
    return torch.exp(delta) - delta - 1
