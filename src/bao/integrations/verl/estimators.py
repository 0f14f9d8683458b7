"""bao's estimators as verl advantage estimators: `algorithm.adv_estimator=userrl | bao-paper | bao`.

verl gives an estimator token tensors and nothing else: `token_level_rewards` and `response_mask` [bsz, L], the
`index` (uid) of each row's prompt, which is the GRPO group, and `config`, verl's `algorithm` section (settings:
`bao.integrations.verl.settings`). So the turns travel in the tokens. bao's agent loop writes each turn's reward
on the last token the policy wrote in that turn (dense token rewards), and turns come back from the mask: a turn
is a run of policy tokens (mask 1), since every turn is followed by masked context (the user's reply) or ends
the row; its reward is the sum of the rewards on its tokens. A reward on a masked token means the rewards did
not come from bao's agent loop, and fails.

Which reward a turn carries: the per-turn reward x_t the estimator adds up, which only the agent loop can
compute, because it needs what the turn did (its wire choice, whether it reached the user, its reasoning).
The agent loop gets it from the estimator itself (`turn_rewards`: bao's estimator run on the one episode), so
the maths stays bao's: `userrl` and `bao` sum reward components (task + effort; every component of
`bao.rewards`), `bao-paper` shapes failed episodes (`bao.rewards.paper_shaping`) and adds the effort. Here, the
estimator then runs bao's implementation on episodes whose only component is x_t, with that first step
switched off (`_APPLIED`): the same code, on the same numbers, as `bao train` (tested against
`bao.algos.estimate` on the raw episodes, through verl's own `compute_advantage`). Tensors are float32, so x_t is
rounded to float32 on its way; advantages agree with bao's float64 ones to about 1e-6.

Returns are the advantages (as UserRL's estimator returns them); verl reads returns only for a critic.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

import torch
from verl.trainer.ppo.core_algos import register_adv_est

from bao.algos import Episode, estimate, token_advantages
from bao.integrations.verl.settings import ESTIMATORS, algo_params

# The part of each estimator that the agent loop has already applied to x_t, switched off here.
_APPLIED: dict[str, dict[str, Any]] = {
    "userrl": {"components": ("task",)},
    "bao": {"components": ("task",)},
    "bao-paper": {"lambda_ot": 0.0, "lambda_is": 0.0},
}


def turn_rewards(algo: str, episode: Episode, params: dict[str, Any]) -> list[float]:
    """x_t of one episode under estimator `algo`: the per-turn reward it adds up, computed by bao's estimator
    (every estimator's reward depends on its own episode only, so one episode is enough)."""
    return estimate(algo, [episode], **params).rewards[0]


def turns_of(rewards: Sequence[float], mask: Sequence[int]) -> tuple[list[int], list[int], list[float]]:
    """(starts, lengths, rewards) of the turns of one row: its runs of policy tokens and their summed rewards."""
    starts, lengths, values = [], [], []
    for i, (reward, policy) in enumerate(zip(rewards, mask)):
        if policy:
            if not i or not mask[i - 1]:
                starts.append(i)
                lengths.append(0)
                values.append(0.0)
            lengths[-1] += 1
            values[-1] += float(reward)
        elif reward:
            raise ValueError(f"reward {float(reward):g} on token {i}, which the policy did not write: bao's "
                             "estimators read per-turn rewards written by bao's agent loop (agent_name=bao)")
    return starts, lengths, values


def advantages(algo: str, token_level_rewards: torch.Tensor, response_mask: torch.Tensor,
               index: Sequence[Hashable], params: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
    """Token advantages [bsz, L] of estimator `algo` with settings `params`, from dense per-turn rewards."""
    masks = response_mask.tolist()
    episodes, starts = [], []
    for rewards, mask, group in zip(token_level_rewards.tolist(), masks, index):
        first, lengths, values = turns_of(rewards, mask)
        episodes.append(Episode(group=group, components={"task": values}, span_tokens=lengths))
        starts.append(first)
    result = estimate(algo, episodes, **{**params, **_APPLIED[algo]})
    rows = [token_advantages(turns, mask, first) for turns, mask, first in zip(result.turns, masks, starts)]
    out = torch.tensor(rows, dtype=token_level_rewards.dtype, device=token_level_rewards.device)
    return out, out.clone()


def _verl_estimator(algo: str) -> Callable[..., tuple[torch.Tensor, torch.Tensor]]:
    def estimator(token_level_rewards: torch.Tensor, response_mask: torch.Tensor, index=None, config=None,
                  **kwargs: Any) -> tuple[torch.Tensor, torch.Tensor]:
        if index is None:
            raise ValueError(f"{algo} needs each row's group (verl's uid): none was passed")
        return advantages(algo, token_level_rewards, response_mask, list(index), algo_params(algo, config or {}))

    estimator.__name__ = estimator.__qualname__ = f"bao_{algo.replace('-', '_')}"
    estimator.__doc__ = f"bao's `{algo}` estimator on dense per-turn rewards (bao.integrations.verl.estimators)."
    return estimator


for _algo in ESTIMATORS:
    register_adv_est(_algo)(_verl_estimator(_algo))
