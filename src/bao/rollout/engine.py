"""The rollout engine: many LLM episodes at once, token in, token out.

Up to `batch_size` episodes are in flight at once (continuous batching). Each round samples the next turn of
every episode in flight in one padded batch (`DecodeBatch`, whose KV cache persists across turns, so a round
reads only the new observation tokens); then, per episode, it parses the action, steps the env, and either
appends the observation's tokens for the next round or retires the episode with its reason:
`done` (the env terminated), `max_turns` (the env's step limit), `max_tokens` (the episode's budget of
policy tokens is spent), `context_limit` (the next observation would not leave room for a single token).
A retired episode's slot goes at once to the next job: its prompt joins the cache at the next round, copying
the system prompt's keys and values from a row that holds them instead of recomputing them. So no slot idles
while long episodes finish, as it would if the next batch waited for the slowest episode of this one.
Every turn samples with its own generator, seeded by `Context.sampling_seed`, so a trajectory does not depend
on the batch size or on which episodes shared its rounds (up to float rounding of the padded batch).

Each trajectory carries a `TokenRecord`: the exact ids the model read and wrote, in order, with mask 1 on
the sampled ids and 0 on prompt and observation ids, and the sampling log-probs of the sampled ids. Text
is derived from ids, never the other way around. A turn cut by `max_new_tokens` (or by the budgets) is
still parsed and stepped (usually as an invalid action); the engine then closes it with the end-of-turn
token, masked 0 since the model did not write it. The record ends with the last policy token: the final
observation was never shown to the model.

The per-episode bookkeeping (`start_token_episode`, `turn_limit`, `play_turn`) needs only a `ChatTokens`, so a
rollout sampled by another engine (verl's agent loop, `bao.integrations.verl`) records its turns, limits and
stop reasons exactly as this one does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bao.core.types import Task, TokenRecord, Trajectory
from bao.envs.base import Env
from bao.policies.base import Context
from bao.policies.chat_tokens import ChatTokens
from bao.policies.decoding import DecodeBatch, Generated
from bao.policies.hf import HFPolicy
from bao.rollout.episodes import apply_turn, start_episode


@dataclass
class EngineConfig:
    """Limits and batching of token-level rollouts (the turn limit is the env's `max_steps`)."""

    batch_size: int = 16  # episodes in flight at once; a finished one's slot goes to the next job
    max_tokens: int = 4096  # policy tokens per episode over all its turns; reaching it ends the episode
    context_limit: int | None = None  # tokens per episode, prompt and observations included; None = the model's


@dataclass
class TokenEpisode:
    """An episode in flight: its env, trajectory, context and token record, the ids to read before its next
    turn (`feed`), and how many policy tokens it has generated."""

    env: Env
    traj: Trajectory
    ctx: Context
    tokens: TokenRecord
    feed: list[int]  # ids to read before the next turn
    generated: int = 0


def run_engine(
    make_env: Callable[[], Env],
    policy: HFPolicy,
    jobs: Sequence[tuple[Task, int]],
    config: EngineConfig | None = None,
    on_done: Callable[[Trajectory], None] | None = None,
    on_turns: Callable[[int, int], None] | None = None,
) -> list[Trajectory]:
    """Play every (task, seed) or (task, seed, draw) job to the end with `policy`; trajectories come back in job
    order. Jobs that share (task, seed) share the simulated user's answers; `draw` gives each its own sampling.

    Jobs start in order, each as soon as a slot is free. `on_done(trajectory)` is called as each episode
    ends; `on_turns(turns, tokens)` after each decoding round, with the turns it played and the tokens it
    generated: an episode can run for minutes on a CPU, so a progress display needs more than finished
    episodes."""
    config = config or EngineConfig()
    if config.batch_size < 1 or config.max_tokens < 1:
        raise ValueError("batch_size and max_tokens must be positive")
    context_limit = min(config.context_limit or policy.context_window, policy.context_window)
    trajectories: list[Trajectory] = []
    flight: dict[int, TokenEpisode] = {}  # job index -> episode in flight
    waiting = iter(jobs)
    batch = DecodeBatch(policy.model, policy.stop_ids, policy.pad_id)

    def retire(ep: TokenEpisode) -> None:
        if on_done:
            on_done(ep.traj)

    while True:
        while len(flight) < config.batch_size and (job := next(waiting, None)) is not None:
            ep = start_token_episode(make_env(), policy, *job, name=policy.name,
                                     temperature=policy.sampling.temperature or 1.0)
            trajectories.append(ep.traj)
            if len(ep.feed) >= context_limit:
                ep.traj.stop_reason = "context_limit"
                retire(ep)
            else:
                flight[len(trajectories) - 1] = ep
        if not flight:
            return trajectories
        limits = {i: turn_limit(ep, policy.sampling.max_new_tokens, config.max_tokens, context_limit)
                  for i, ep in flight.items()}
        seeds = {i: ep.ctx.sampling_seed for i, ep in flight.items()}
        generated = batch.generate({i: ep.feed for i, ep in flight.items()}, limits, seeds, policy.sampling)
        if on_turns:
            on_turns(len(generated), sum(len(gen.ids) for gen in generated.values()))
        for i, gen in generated.items():
            if not play_turn(flight[i], gen, policy, config.max_tokens, context_limit):
                retire(flight.pop(i))


def start_token_episode(env: Env, chat: ChatTokens, task: Task, seed: int, draw: int = 0, name: str = "hf",
                        temperature: float = 1.0) -> TokenEpisode:
    """A new episode whose feed is its prompt (`temperature` is recorded with the log-probs)."""
    traj, ctx = start_episode(env, task, seed, name, draw)
    prompt = chat.prompt_ids(ctx.messages)
    traj.tokens = TokenRecord(ids=list(prompt), mask=[0] * len(prompt), logprobs=[0.0] * len(prompt),
                              temperature=temperature)
    return TokenEpisode(env, traj, ctx, traj.tokens, prompt)


def turn_limit(ep: TokenEpisode, max_new_tokens: int, max_tokens: int, context_limit: int) -> int:
    """How many tokens the episode's next turn may sample: the turn's cap, the room left in the context and
    what is left of the episode's policy-token budget."""
    return min(max_new_tokens, context_limit - len(ep.tokens.ids), max_tokens - ep.generated)


def play_turn(ep: TokenEpisode, gen: Generated, chat: ChatTokens, max_tokens: int, context_limit: int) -> bool:
    """Record a sampled turn, step the env and set the feed of the next turn; False when the episode ended."""
    record = ep.tokens
    record.turn_starts.append(len(record.ids))
    record.ids += gen.ids
    record.mask += [1] * len(gen.ids)
    record.logprobs += gen.logprobs
    ep.generated += len(gen.ids)
    done = apply_turn(ep.env, ep.traj, ep.ctx, chat.text(gen.ids))
    turn = ep.traj.turns[-1]
    turn.info.update(policy_tokens=len(gen.ids), cut_off=not gen.stopped)
    if done:
        return False
    if ep.generated >= max_tokens:
        ep.traj.stop_reason = "max_tokens"
        return False
    close = [] if gen.ids[-1] == chat.end_of_turn_id else [chat.end_of_turn_id]
    chunk = close + chat.observation_ids(turn.observation)
    if len(record.ids) + len(chunk) >= context_limit:
        ep.traj.stop_reason = "context_limit"
        return False
    record.ids += chunk
    record.mask += [0] * len(chunk)
    record.logprobs += [0.0] * len(chunk)
    ep.feed = chunk
    return True
