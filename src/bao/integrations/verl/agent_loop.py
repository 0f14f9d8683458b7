"""`bao`: a verl agent loop that plays one bao episode per sample, token in, token out, as bao's own engine does.

A row of `bao export verl` names it (`agent_name: bao`) and holds the task and the simulated user's seed
(`extra_info`: env, split, task_id, seed). For each sample the loop:

1. loads that task, resets the env with that seed (the n samples of a prompt share both: a GRPO group) and
   renders bao's prompt with the model's tokenizer (`ChatTokens`: the tool schema in the system prompt,
   observations as `<tool_response>` user turns, identical to `bao train`);
2. per turn, asks verl's LLM server for the next turn, then records it with bao's engine
   (`bao.rollout.engine.play_turn`): parse with bao's parser, step the env, append the user's reply as masked
   context (mask 0; the end-of-turn token too when the server did not return it); a turn may sample at most
   `max_new_tokens`, the rest of the episode's `max_tokens` policy tokens and the room left in
   `rollout.response_length`, so a policy turn is never cut off by verl's padding;
3. stops on bao's stop reasons: `done` (the env ended the episode), `max_turns` (the env's turn limit),
   `max_tokens` (the policy-token budget is spent), `context_limit` (the next reply would not leave room for a
   token in `rollout.response_length`);
4. shapes the episode's rewards with `bao.rewards` (every component per turn, as `bao train` logs them), takes
   the reward x_t the estimator adds up (`estimators.turn_rewards`) and writes it on the last token the policy
   wrote in turn t (dense `rm_scores`), which is how bao's estimators in verl find the turns again;
5. records the stop reason, the turn kinds and the per-turn components in `extra_fields`, and numeric
   summaries (score, success, U, turns, each component's sum) in `reward_extra_info`, which verl logs.

The env steps run in a thread, so an LLM-backed user does not stall the other episodes of the worker. It needs
verl's v1 trainer (`trainer.use_v1=true`, verl's default): the legacy trainer keeps one scalar per sample.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from uuid import uuid4

import torch
from verl.experimental.agent_loop.agent_loop import AgentLoopBase, AgentLoopMetrics, AgentLoopOutput, register
from verl.workers.rollout.replica import TokenOutput

from bao.agent.prompt import chat_messages
from bao.core.types import Task, Trajectory
from bao.envs.registry import make
from bao.integrations.verl.estimators import turn_rewards
from bao.integrations.verl.settings import read_settings
from bao.pipelines.rl_data import to_episode
from bao.policies.chat_tokens import ChatTokens
from bao.policies.decoding import Generated
from bao.policies.models import ModelError
from bao.rewards import COMPONENTS
from bao.rollout.engine import TokenEpisode, play_turn, start_token_episode, turn_limit

BAO_CHATML = "bao.agent.prompt.CHATML_TEMPLATE"


class BaoAgentLoopOutput(AgentLoopOutput):
    """An agent loop output whose reward is dense: `token_rewards` holds one value per response token."""

    token_rewards: list[float]

    def as_dict(self) -> dict[str, Any]:
        out = super().as_dict()
        out.pop("token_rewards", None)
        out["rm_scores"] = torch.tensor(self.token_rewards, dtype=torch.float32)
        return out


@register("bao")
class BaoAgentLoop(AgentLoopBase):
    """One bao episode per sample; settings from `algorithm.bao` (`bao.integrations.verl.settings`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.config.trainer.get("use_v1", False):
            raise ValueError("bao's agent loop needs trainer.use_v1=true: the legacy trainer keeps one reward per "
                             "sample, and bao's estimators read one per turn")
        self.settings = read_settings(self.config.algorithm)
        try:
            self.chat = ChatTokens(self.tokenizer)
        except ModelError as exc:
            raise ModelError(f"{exc}; set actor_rollout_ref.model.custom_chat_template to bao's ChatML "
                             f"({BAO_CHATML}), as examples/verl does") from None
        self.prompt_length = self.rollout_config.prompt_length
        self.response_length = self.rollout_config.response_length
        self.max_new_tokens = self.settings.max_new_tokens or self.response_length
        self.max_tokens = self.settings.max_tokens or self.response_length

    async def run(self, sampling_params: dict[str, Any], **kwargs: Any) -> AgentLoopOutput:
        row = kwargs["extra_info"]
        task = _task(row["env"], row["split"], row["task_id"])
        if "raw_prompt" in kwargs and list(kwargs["raw_prompt"]) != chat_messages(task.prompt):
            raise ValueError(f"the prompt of {row['env']} task {row['task_id']} changed since the export: run "
                             "`bao export verl` again")
        env_args = dict(self.settings.env_args)
        if self.settings.max_turns:
            env_args["max_steps"] = self.settings.max_turns
        ep = start_token_episode(make(row["env"], **env_args), self.chat, task, int(row["seed"]), name="verl",
                                 temperature=sampling_params.get("temperature") or 1.0)
        prompt = list(ep.feed)
        if len(prompt) > self.prompt_length:
            raise ValueError(f"{row['env']} task {row['task_id']}: the prompt has {len(prompt)} tokens, more than "
                             f"rollout.prompt_length={self.prompt_length} (raise it and data.max_prompt_length)")
        context_limit = len(prompt) + self.response_length
        request_id, rollout = uuid4().hex, _Rollout()
        while True:
            limit = turn_limit(ep, self.max_new_tokens, self.max_tokens, context_limit)
            start = time.perf_counter()
            out = await self.server_manager.generate(request_id=request_id, prompt_ids=list(ep.tokens.ids),
                                                     sampling_params={**sampling_params, "max_tokens": limit})
            rollout.generate_s += time.perf_counter() - start
            turn = rollout.record(out, limit, self.chat.stop_ids)
            start = time.perf_counter()
            going = await asyncio.to_thread(play_turn, ep, turn, self.chat, self.max_tokens, context_limit)
            rollout.env_s += time.perf_counter() - start
            if not going:
                break
        return self._output(ep, prompt, rollout, bool(sampling_params.get("logprobs")))

    def _output(self, ep: TokenEpisode, prompt: list[int], rollout: _Rollout, logprobs: bool) -> BaoAgentLoopOutput:
        traj, record, offset = ep.traj, ep.tokens, len(prompt)
        episode, components = to_episode(traj, "", self.settings.reward)
        rewards = turn_rewards(self.settings.algo, episode, self.settings.algo_params)
        dense = [0.0] * (len(record.ids) - offset)
        for start, turn, reward in zip(record.turn_starts, traj.turns, rewards):
            dense[start + turn.info["policy_tokens"] - 1 - offset] = reward
        return BaoAgentLoopOutput(
            prompt_ids=prompt,
            response_ids=record.ids[offset:],
            response_mask=record.mask[offset:],
            response_logprobs=record.logprobs[offset:] if logprobs and rollout.logprobs else None,
            reward_score=float(sum(rewards)),
            num_turns=2 * len(traj.turns),  # the first user message, the assistant turns, the replies shown
            metrics=AgentLoopMetrics(generate_sequences=rollout.generate_s, tool_calls=rollout.env_s),
            token_rewards=dense,
            extra_fields={
                **rollout.server_fields,
                "turn_scores": rewards,
                "bao_stop_reason": traj.stop_reason,
                "bao_turn_kinds": [turn.kind for turn in traj.turns],
                "bao_turn_components": components,
                "reward_extra_info": summary(traj, components),
            },
        )


@dataclass
class _Rollout:
    """What the server's replies add up to over an episode: timings, whether every turn came with log-probs,
    and the server's own fields (the weight versions verl's asynchronous trainers use to drop stale samples)."""

    generate_s: float = 0.0
    env_s: float = 0.0
    logprobs: bool = True
    server_fields: dict[str, Any] = field(default_factory=dict)

    def record(self, out: TokenOutput, limit: int, stop_ids: frozenset[int]) -> Generated:
        """The turn the server sampled, as bao's engine records one."""
        if not out.token_ids:
            raise RuntimeError(f"the LLM server returned no tokens (stop reason {out.stop_reason!r})")
        ids = list(out.token_ids[:limit])
        self.logprobs = self.logprobs and bool(out.log_probs)
        if not self.server_fields:
            self.server_fields = dict(out.extra_fields)
        elif out.extra_fields.get("max_global_steps") is not None:
            self.server_fields["max_global_steps"] = out.extra_fields["max_global_steps"]
        logprobs = list(out.log_probs[: len(ids)]) if out.log_probs else [0.0] * len(ids)
        return Generated(ids, logprobs, stopped=ids[-1] in stop_ids or len(ids) < limit)


def summary(traj: Trajectory, components: list[dict[str, float]]) -> dict[str, float]:
    """The episode's numbers verl logs beside its reward: score, success, user effort, turns, and the sum of
    every reward component (as `bao train` logs `reward/<component>`)."""
    out = {"score": float(traj.score), "success": float(traj.success), "U": float(traj.U),
           "U_userrl": float(traj.U_userrl), "turns": float(len(traj.turns))}
    return out | {f"reward_{name}": float(sum(turn[name] for turn in components)) for name in COMPONENTS}


@lru_cache(maxsize=16)
def _tasks(env: str, split: str) -> dict[str, Task]:
    return {task.id: task for task in make(env).tasks(split)}


def _task(env: str, split: str, task_id: str) -> Task:
    tasks = _tasks(env, split)
    if task_id not in tasks:
        raise ValueError(f"{env} has no {split} task {task_id!r}: the data changed since `bao export verl`")
    return tasks[task_id]
