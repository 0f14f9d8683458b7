"""Evaluation: run a policy on an environment's split over several seeds and write what happened.

Writes `trajectories.jsonl` (every episode, every turn) and `metrics.json` (the headline metrics with 95%
confidence intervals, plus the run's settings) into the output directory.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bao.core.types import Trajectory, write_jsonl
from bao.envs import make
from bao.pipelines.metrics import Estimate, summarize, to_json
from bao.policies.base import Policy
from bao.rollout.episodes import run_episodes


@dataclass
class EvalConfig:
    """Settings of one evaluation run."""

    env: str
    split: str = "test"
    n: int | None = None  # first n tasks of the split; None = all
    seeds: Sequence[int] = (0,)
    max_turns: int | None = None  # None = the env's default (16, as UserRL)
    batch_size: int = 64  # episodes played at once
    engine: dict = field(default_factory=dict)  # LLM policies: max_tokens, context_limit (bao.rollout.engine)
    env_kwargs: dict = field(default_factory=dict)


@dataclass
class EvalResult:
    trajectories: list[Trajectory]
    metrics: dict[str, Estimate]
    seconds: float


def evaluate(
    config: EvalConfig,
    policy: Policy,
    out_dir: str | Path | None = None,
    progress: Callable[[int], None] | None = None,
    on_turns: Callable[[int, int], None] | None = None,
) -> EvalResult:
    """Play every (task, seed) of the config with `policy`; `progress(k)` is called as k episodes finish, and
    for an LLM policy `on_turns(turns, tokens)` after each decoding round (see `run_engine`)."""
    start = time.perf_counter()
    kwargs = dict(config.env_kwargs)
    if config.max_turns:
        kwargs["max_steps"] = config.max_turns
    tasks = make(config.env, **kwargs).tasks(config.split)
    if config.n is not None:
        if config.n <= 0:
            raise ValueError("--n must be positive")
        tasks = tasks[: config.n]
    jobs = [(task, seed) for seed in config.seeds for task in tasks]
    on_done = (lambda _t: progress(1)) if progress else None
    trajectories: list[Trajectory] = []
    if getattr(policy, "token_level", False):  # an LLM: the rollout engine records ids, masks and log-probs
        from bao.rollout.engine import EngineConfig, run_engine

        engine = EngineConfig(batch_size=config.batch_size, **config.engine)
        trajectories = run_engine(lambda: make(config.env, **kwargs), policy, jobs, engine, on_done, on_turns)
    else:
        for lo in range(0, len(jobs), config.batch_size):
            batch = jobs[lo : lo + config.batch_size]
            trajectories += run_episodes(lambda: make(config.env, **kwargs), policy, batch, on_done=on_done)
    result = EvalResult(trajectories, summarize(trajectories), time.perf_counter() - start)
    if out_dir is not None:
        save(result, config, policy, Path(out_dir))
    return result


def save(result: EvalResult, config: EvalConfig, policy: Policy, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    write_jsonl(out_dir / "trajectories.jsonl", result.trajectories)
    payload = {
        "env": config.env,
        "split": config.split,
        "policy": policy.name,
        "seeds": list(config.seeds),
        "episodes": len(result.trajectories),
        "seconds": round(result.seconds, 3),
        "metrics": to_json(result.metrics),
    }
    tmp = out_dir / "metrics.json.tmp"
    tmp.write_text(json.dumps(payload, indent=2))
    tmp.replace(out_dir / "metrics.json")
