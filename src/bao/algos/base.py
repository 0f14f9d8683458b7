"""What every advantage estimator reads and returns, the registry that picks one by name, and the group baseline.

An estimator is a plain function of per-turn data, registered with its config dataclass:

    @register("name", NameConfig)
    def name(episodes: Sequence[Episode], config: NameConfig) -> Advantages: ...

Inputs are per turn, not per token: within a turn every policy token gets the same advantage, so an estimator
only needs to know how many policy tokens each turn has (`Episode.span_tokens`, for estimators that weigh
turns by their length). Spreading the result over a token sequence is the trainer's job (`token_advantages`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any


@dataclass(frozen=True)
class Episode:
    """One episode as an estimator sees it.

    `group` is the GRPO group (same task and simulated-user seed); `components` maps each reward component
    name (`bao.rewards.COMPONENTS`) to its per-turn values, one per turn T' of the episode; `choices` holds
    each turn's wire choice (`action`, `search`, `answer`, ...); `span_tokens[k]` is the number of policy
    tokens of turn k. A truncated record can have fewer spans than turns: turns without a span still count
    in the episode's score but have no tokens to credit. `None` means one token per turn.
    """

    group: Hashable
    components: Mapping[str, Sequence[float]]
    choices: Sequence[str] = ()
    span_tokens: Sequence[int] | None = None

    @property
    def n_turns(self) -> int:
        return len(next(iter(self.components.values()), ()))

    @property
    def spans(self) -> Sequence[int]:
        return self.span_tokens if self.span_tokens is not None else [1] * self.n_turns

    def reward(self, names: Sequence[str]) -> list[float]:
        """Per-turn sum of the named components (those the episode lacks count 0)."""
        present = [self.components[name] for name in names if name in self.components]
        return [float(sum(values[t] for values in present)) for t in range(self.n_turns)]


@dataclass
class Advantages:
    """An estimator's output, episode by episode.

    `turns[b][k]`: the advantage of every policy token of span k of episode b (0 for spans beyond its turns);
    `scores[b]`: the score the group baseline compares; `credits[b][t]`: the per-turn credit before the
    group advantage is applied; `rewards[b][t]`: the per-turn reward the estimator used; `stats`: numbers
    to log (means over the batch).
    """

    turns: list[list[float]]
    scores: list[float]
    credits: list[list[float]]
    rewards: list[list[float]]
    stats: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Estimator:
    name: str
    config: type
    fn: Callable[[Sequence[Episode], Any], Advantages]

    def __call__(self, episodes: Sequence[Episode], config: Any = None) -> Advantages:
        return self.fn(episodes, config if config is not None else self.config())


ESTIMATORS: dict[str, Estimator] = {}


class UnknownEstimator(KeyError):
    """An estimator name that is not registered; the message lists the registered ones."""


def register(name: str, config: type) -> Callable:
    """Register `fn(episodes, config) -> Advantages` under `name`, with its config dataclass."""

    def wrap(fn: Callable) -> Callable:
        ESTIMATORS[name] = Estimator(name, config, fn)
        return fn

    return wrap


def get_estimator(name: str) -> Estimator:
    if name not in ESTIMATORS:
        raise UnknownEstimator(f"unknown algo {name!r}; choose one of {', '.join(ESTIMATORS)}")
    return ESTIMATORS[name]


def make_config(name: str, **params: Any) -> Any:
    """The config of estimator `name` with `params` overriding its defaults; unknown keys fail, naming them."""
    config = get_estimator(name).config
    known = {f.name for f in fields(config)}
    unknown = sorted(set(params) - known)
    if unknown:
        raise ValueError(f"algo {name} has no setting {', '.join(unknown)}; it has {', '.join(sorted(known))}")
    return config(**params)


def estimate(name: str, episodes: Sequence[Episode], **params: Any) -> Advantages:
    """Run estimator `name` on `episodes` with its defaults overridden by `params`."""
    return get_estimator(name)(episodes, make_config(name, **params))


@dataclass(frozen=True)
class GroupStats:
    """Mean, unbiased (n - 1) standard deviation (as torch.std) and size of one group's scores."""

    mean: float
    std: float
    size: int


def group_stats(scores: Sequence[float], groups: Sequence[Hashable]) -> dict[Hashable, GroupStats]:
    """The statistics of every group. Equal scores give exactly their value and std 0 (the reference's float32
    arithmetic leaves noise there, BAO_RECIPE.md 7.3); a group of one has std 0."""
    members: dict[Hashable, list[float]] = {}
    for score, group in zip(scores, groups):
        members.setdefault(group, []).append(score)
    out = {}
    for group, values in members.items():
        if max(values) == min(values):
            out[group] = GroupStats(values[0], 0.0, len(values))
            continue
        mean = math.fsum(values) / len(values)
        std = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1))
        out[group] = GroupStats(mean, std, len(values))
    return out


def group_advantages(
    scores: Sequence[float],
    groups: Sequence[Hashable],
    norm_std: bool = True,
    epsilon: float = 1e-6,
    singleton_as_verl: bool = False,
) -> list[float]:
    """GRPO's group-relative advantage of every score: (S - mean) / (std + epsilon) within its group.

    A group of one has no baseline and gets 0, unless `singleton_as_verl`: verl's convention of mean 0 and
    std 1, so S / (1 + eps).
    """
    stats = group_stats(scores, groups)
    out = []
    for score, group in zip(scores, groups):
        g = stats[group]
        mean, std = (0.0, 1.0) if g.size == 1 and singleton_as_verl else (g.mean, g.std)
        out.append((score - mean) / (std + epsilon) if norm_std else score - mean)
    return out


def token_advantages(turns: Sequence[float], mask: Sequence[int], starts: Sequence[int]) -> list[float]:
    """Spread per-span advantages over a token sequence: every token of span k (from `starts[k]` to the next
    start, the last to the end) with `mask == 1` gets `turns[k]`; tokens before the first start, masked
    tokens and spans without a value get 0. `starts` are a `TokenRecord`'s `turn_starts` (or verl's turn
    boundaries)."""
    out = [0.0] * len(mask)
    bounds = list(starts) + [len(mask)]
    for k, value in enumerate(turns[: len(starts)]):
        for i in range(bounds[k], bounds[k + 1]):
            if mask[i]:
                out[i] = value
    return out


def check_common(gamma: float, epsilon: float) -> None:
    """Validation shared by the estimator configs."""
    if not 0 < gamma <= 1:
        raise ValueError(f"algo gamma must be in (0, 1], got {gamma}")
    if epsilon <= 0:
        raise ValueError(f"algo epsilon must be > 0, got {epsilon}")


def batch_stats(episodes: Sequence[Episode], scores: Sequence[float], adv: Sequence[float]) -> dict[str, float]:
    """Numbers every estimator logs: score mean/std, the share of episodes in zero-variance groups, |advantage|."""
    n = max(len(scores), 1)
    stats = group_stats(scores, [ep.group for ep in episodes])
    flat = sum(stats[ep.group].std == 0 for ep in episodes)
    mean = math.fsum(scores) / n
    return {
        "score_mean": mean,
        "score_std": math.sqrt(math.fsum((s - mean) ** 2 for s in scores) / n),
        "zero_variance_share": flat / n,
        "abs_advantage_mean": math.fsum(abs(a) for a in adv) / n,
    }
