"""From a step's trajectories to what the estimator and the loss read (no torch here).

- `step_jobs`: which tasks a step plays, with which simulated-user seed: a pure function of (seed, step), so
  a resumed run plays exactly the tasks an uninterrupted one would;
- `group_costs`: the effort cost of each group when one policy trains for several (`w_choices`), likewise;
- `to_episode`: a trajectory's per-turn reward components, wire choices and policy tokens per turn;
- `training_rows`: per trajectory, the token ids, the policy mask, the rollout's log-probs and each token's
  advantage, straight from the `TokenRecord` (the loss is computed on the ids the policy sampled, never on
  re-tokenised text).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from bao.algos import Advantages, Episode, token_advantages
from bao.algos.base import group_stats
from bao.core.types import Task, Trajectory
from bao.policies.seeds import turn_seed
from bao.rewards import COMPONENTS, RewardConfig, turn_rewards


def step_jobs(tasks: Sequence[Task], step: int, tasks_per_step: int, group_size: int,
              seed: int) -> list[tuple[Task, int, int]]:
    """(task, user seed, draw) of every episode of `step`: tasks in a seeded order that is reshuffled every pass
    over the split; each group shares its task and user seed, and its members differ by `draw`."""
    jobs = []
    for j in range(tasks_per_step):
        flat = step * tasks_per_step + j
        epoch, index = divmod(flat, len(tasks))
        order = list(range(len(tasks)))
        random.Random(f"{seed}:order:{epoch}").shuffle(order)
        user_seed = turn_seed(seed, f"user:{step}:{j}", 0) % (1 << 31)
        jobs += [(tasks[order[index]], user_seed, draw) for draw in range(group_size)]
    return jobs


def group_costs(choices: Sequence[float], seed: int, step: int, tasks_per_step: int) -> list[float]:
    """The effort cost w of each group of `step` in a run that trains one policy for several costs ([] without
    `choices`): a function of (seed, step, group), like the task order, and balanced: each pass of
    len(choices) consecutive groups gives every cost to one group, in a seeded order."""
    if not choices:
        return []
    out = []
    for j in range(tasks_per_step):
        epoch, index = divmod(step * tasks_per_step + j, len(choices))
        order = list(range(len(choices)))
        random.Random(f"{seed}:w:{epoch}").shuffle(order)
        out.append(choices[order[index]])
    return out


def to_episode(traj: Trajectory, group: str, config: RewardConfig) -> tuple[Episode, list[dict[str, float]]]:
    """The estimator's view of a trajectory, and its per-turn reward components (also kept for the log)."""
    rows = turn_rewards(traj, config)
    components = {name: [row[name] for row in rows] for name in COMPONENTS}
    choices = [turn.kind if turn.kind in ("answer", "search") else "action" for turn in traj.turns]
    return Episode(group=group, components=components, choices=choices, span_tokens=span_tokens(traj)), rows


def span_tokens(traj: Trajectory) -> list[int]:
    """Policy tokens of each recorded turn span (from one turn's first policy token to the next turn's)."""
    record = traj.tokens
    if record is None:
        raise ValueError("a trajectory without a TokenRecord cannot be trained on (use the rollout engine)")
    bounds = [*record.turn_starts, len(record.ids)]
    return [sum(record.mask[bounds[k] : bounds[k + 1]]) for k in range(len(record.turn_starts))]


@dataclass
class Row:
    """One episode as the loss reads it: the full token sequence and, per token, mask, old log-prob, advantage."""

    ids: list[int]
    mask: list[int]
    old_logprobs: list[float]
    advantages: list[float]
    group: str


def training_rows(trajectories: Sequence[Trajectory], groups: Sequence[str], adv: Advantages) -> list[Row]:
    rows = []
    for traj, group, turns in zip(trajectories, groups, adv.turns):
        record = traj.tokens
        values = token_advantages(turns, record.mask, record.turn_starts)
        rows.append(Row(list(record.ids), list(record.mask), list(record.logprobs), values, group))
    return rows


def flat_groups(adv: Advantages, groups: Sequence[str]) -> set[str]:
    """Groups whose scores are all equal (no comparison, so no signal under a group baseline)."""
    return {g for g, stats in group_stats(adv.scores, groups).items() if stats.std == 0}
