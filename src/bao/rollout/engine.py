"""The rollout engine: many LLM episodes at once, token in, token out.

Episodes run in waves of `batch_size`. Each round gathers the wave's active episodes and samples their next
turns in one padded batch (`DecodeBatch`, whose KV cache persists across turns, so a round reads only the
new observation tokens); then, per episode, it parses the action, steps the env, and either appends the
observation's tokens for the next round or retires the episode with its reason:
`done` (the env terminated), `max_turns` (the env's step limit), `max_tokens` (the episode's budget of
policy tokens is spent), `context_limit` (the next observation would not leave room for a single token).

Each trajectory carries a `TokenRecord`: the exact ids the model read and wrote, in order, with mask 1 on
the sampled ids and 0 on prompt and observation ids, and the sampling log-probs of the sampled ids. Text
is derived from ids, never the other way around. A turn cut by `max_new_tokens` (or by the budgets) is
still parsed and stepped (usually as an invalid action); the engine then closes it with the end-of-turn
token, masked 0 since the model did not write it. The record ends with the last policy token: the final
observation was never shown to the model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bao.core.types import Task, TokenRecord, Trajectory
from bao.envs.base import Env
from bao.policies.base import Context
from bao.policies.decoding import DecodeBatch
from bao.policies.hf import HFPolicy
from bao.policies.seeds import turn_seed
from bao.rollout.episodes import apply_turn, start_episode


@dataclass
class EngineConfig:
    """Limits and batching of token-level rollouts (the turn limit is the env's `max_steps`)."""

    batch_size: int = 16  # episodes decoded together; the next wave starts when a wave has finished
    max_tokens: int = 4096  # policy tokens per episode over all its turns; reaching it ends the episode
    context_limit: int | None = None  # tokens per episode, prompt and observations included; None = the model's


@dataclass
class _Episode:
    env: Env
    traj: Trajectory
    ctx: Context
    tokens: TokenRecord
    generated: int = 0


def run_engine(
    make_env: Callable[[], Env],
    policy: HFPolicy,
    jobs: Sequence[tuple[Task, int]],
    config: EngineConfig | None = None,
    on_done: Callable[[Trajectory], None] | None = None,
    on_turns: Callable[[int, int], None] | None = None,
) -> list[Trajectory]:
    """Play every (task, seed) job to the end with `policy`; trajectories come back in job order.

    `on_done(trajectory)` is called as each episode ends; `on_turns(turns, tokens)` after each decoding round,
    with the turns it played and the tokens it generated: an episode can run for minutes on a CPU, so a
    progress display needs more than finished episodes."""
    config = config or EngineConfig()
    if config.batch_size < 1 or config.max_tokens < 1:
        raise ValueError("batch_size and max_tokens must be positive")
    out: list[Trajectory] = []
    for lo in range(0, len(jobs), config.batch_size):
        out += _run_wave(make_env, policy, jobs[lo : lo + config.batch_size], config, on_done, on_turns)
    return out


def _run_wave(make_env, policy: HFPolicy, jobs, config: EngineConfig, on_done, on_turns) -> list[Trajectory]:
    context_limit = min(config.context_limit or policy.context_window, policy.context_window)
    episodes: list[_Episode] = []
    pending: dict[int, list[int]] = {}  # episode index -> ids to feed before its next turn

    def finish(ep: _Episode, reason: str | None = None) -> None:
        if reason:
            ep.traj.stop_reason = reason
        if on_done:
            on_done(ep.traj)

    for i, (task, seed) in enumerate(jobs):
        env = make_env()
        traj, ctx = start_episode(env, task, seed, policy.name)
        prompt = policy.prompt_ids(ctx.messages)
        traj.tokens = TokenRecord(ids=list(prompt), mask=[0] * len(prompt), logprobs=[0.0] * len(prompt),
                                  temperature=policy.sampling.temperature or 1.0)
        ep = _Episode(env, traj, ctx, traj.tokens)
        episodes.append(ep)
        if len(prompt) >= context_limit:
            finish(ep, "context_limit")
        else:
            pending[i] = prompt

    batch = DecodeBatch(policy.model, policy.stop_ids, policy.pad_id)
    while pending:
        limits, seeds = {}, {}
        for i in pending:
            ep = episodes[i]
            limits[i] = min(policy.sampling.max_new_tokens, context_limit - len(ep.tokens.ids),
                            config.max_tokens - ep.generated)
            seeds[i] = turn_seed(ep.ctx.seed, ep.ctx.task.id, ep.ctx.turn)
        generated = batch.generate(pending, limits, seeds, policy.sampling)
        if on_turns:
            on_turns(len(generated), sum(len(gen.ids) for gen in generated.values()))
        pending = {}
        for i, gen in generated.items():
            ep = episodes[i]
            record = ep.tokens
            record.turn_starts.append(len(record.ids))
            record.ids += gen.ids
            record.mask += [1] * len(gen.ids)
            record.logprobs += gen.logprobs
            ep.generated += len(gen.ids)
            done = apply_turn(ep.env, ep.traj, ep.ctx, policy.text(gen.ids))
            turn = ep.traj.turns[-1]
            turn.info.update(policy_tokens=len(gen.ids), cut_off=not gen.stopped)
            if done:
                finish(ep)
                continue
            if ep.generated >= config.max_tokens:
                finish(ep, "max_tokens")
                continue
            close = [] if gen.ids[-1] == policy.end_of_turn_id else [policy.end_of_turn_id]
            chunk = close + policy.observation_ids(turn.observation)
            if len(record.ids) + len(chunk) >= context_limit:
                finish(ep, "context_limit")
                continue
            record.ids += chunk
            record.mask += [0] * len(chunk)
            record.logprobs += [0.0] * len(chunk)
            pending[i] = chunk
    return [ep.traj for ep in episodes]
