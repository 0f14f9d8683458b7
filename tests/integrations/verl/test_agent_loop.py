"""bao's verl agent loop, driven by a scripted LLM server over FunctionGym: bao's tokens, masks, per-turn dense
rewards and stop reasons, and, for a whole group, bao's advantages through verl's estimator call.

The expected token sequences are built independently of the loop: bao's text-level episode (`apply_turn`) gives
each observation, `ChatTokens` its ids, and the rewards are written out by hand.
"""

from __future__ import annotations

import asyncio
from copy import deepcopy

import pytest

pytest.importorskip("verl")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from verl import DataProto  # noqa: E402
from verl.trainer.ppo.v1.utils import compute_advantage_for_multi_trajectories  # noqa: E402

from bao.agent.prompt import chat_messages  # noqa: E402
from bao.agent.render import render_tool_call  # noqa: E402
from bao.algos import Episode, estimate, token_advantages  # noqa: E402
from bao.envs.registry import make  # noqa: E402
from bao.policies.chat_tokens import ChatTokens  # noqa: E402
from bao.policies.models import ModelError  # noqa: E402
from bao.rewards import COMPONENTS, RewardConfig, turn_rewards  # noqa: E402
from bao.rollout.episodes import apply_turn, start_episode  # noqa: E402
from tests.conftest import needs_data  # noqa: E402

pytestmark = needs_data

SAMPLING = {"temperature": 1.0, "top_p": 1.0, "top_k": -1, "repetition_penalty": 1.0, "logprobs": True}
BAO = ["algorithm.adv_estimator=bao", "algorithm.gamma=1.0", "~algorithm.bao.algo_args", "algorithm.bao.w=0.1"]


@pytest.fixture(scope="module")
def task():
    return make("function").tasks("train")[0]


@pytest.fixture
def turns(tokenizer, task):
    """Outputs of one episode: a query, the same query again (redundant) without its end-of-turn token, an
    unparseable turn, the right answer."""
    end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    texts = [render_tool_call("action", "1 2 3 4", "Vary one input at a time."),
             render_tool_call("action", "1 2 3 4"),
             "I am not sure what to do.",
             render_tool_call("answer", str(task.hidden["expected_result"]))]
    ids = [tokenizer.encode(t, add_special_tokens=False) for t in texts]
    return [ids[0] + [end], ids[1], ids[2] + [end], ids[3] + [end]], texts


def play(loop, task, seed=0, **row):
    kwargs = {"raw_prompt": chat_messages(task.prompt),
              "extra_info": {"index": 0, "env": "function", "split": "train", "task_id": task.id, "seed": seed, **row}}
    return asyncio.run(loop.run(dict(SAMPLING), **kwargs))


def expected_tokens(chat: ChatTokens, task, turns: list[list[int]], texts: list[str]):
    """(response ids, mask) of the scripted episode, by bao's text-level episode and `ChatTokens`."""
    env = make("function")
    traj, ctx = start_episode(env, task, 0, "expected")
    ids, mask = [], []
    for k, (turn, text) in enumerate(zip(turns, texts)):
        ids += turn
        mask += [1] * len(turn)
        if apply_turn(env, traj, ctx, text):
            break
        close = [] if turn[-1] == chat.end_of_turn_id else [chat.end_of_turn_id]
        reply = close + chat.observation_ids(traj.turns[k].observation)
        ids += reply
        mask += [0] * len(reply)
    return ids, mask


def test_an_answered_episode_has_baos_tokens_masks_dense_rewards_and_stops_done(agent_loop, task, turns, tokenizer):
    ids, texts = turns
    loop, server = agent_loop(ids, *BAO)
    out = play(loop, task)
    chat = ChatTokens(tokenizer)
    assert out.prompt_ids == chat.prompt_ids(task.prompt)
    response, mask = expected_tokens(chat, task, ids, texts)
    assert out.response_ids == response and out.response_mask == mask
    assert out.extra_fields["bao_stop_reason"] == "done"
    assert out.extra_fields["bao_turn_kinds"] == ["ask", "ask", "invalid", "answer"]
    # `bao` with w = 0.1 and its preset lambda_is = 0.05: the repeated query is redundant, the answer costs effort.
    assert out.extra_fields["turn_scores"] == pytest.approx([0.0, -0.05, 0.0, 0.9])
    components = out.extra_fields["bao_turn_components"]
    assert [c["redundant"] for c in components] == [0.0, -0.05, 0.0, 0.0]
    assert [c["effort"] for c in components] == [0.0, 0.0, 0.0, -0.1]
    ends = [i for i in range(len(mask)) if mask[i] and (i + 1 == len(mask) or not mask[i + 1])]
    assert [i for i, r in enumerate(out.token_rewards) if r] == [ends[1], ends[3]]
    assert [out.token_rewards[i] for i in ends] == pytest.approx([0.0, -0.05, 0.0, 0.9])
    rm_scores = out.as_dict()["rm_scores"]
    assert rm_scores.tolist() == pytest.approx(out.token_rewards) and out.reward_score == pytest.approx(0.85)
    assert out.response_logprobs == [-0.5 if m else 0.0 for m in mask]
    info = out.extra_fields["reward_extra_info"]
    assert (info["score"], info["success"], info["U"], info["turns"]) == (1.0, 1.0, 1.0, 4.0)


def test_each_request_holds_the_whole_episode_so_far_and_the_room_left(agent_loop, task, turns):
    ids, _ = turns
    loop, server = agent_loop(ids, *BAO, "data.max_response_length=600", "algorithm.bao.max_new_tokens=200")
    out = play(loop, task)
    sequence = out.prompt_ids + out.response_ids
    starts = [i for i in range(len(out.response_mask))
              if out.response_mask[i] and (i == 0 or not out.response_mask[i - 1])]
    for (prompt, params), start in zip(server.requests, starts):
        assert prompt == sequence[: len(out.prompt_ids) + start]
        assert params["max_tokens"] == min(200, 600 - start)
        assert params["temperature"] == 1.0


def test_the_weight_versions_the_server_reports_span_the_episode(agent_loop, task, turns):
    """verl's asynchronous trainers drop samples whose turns span too many weight versions."""
    loop, _ = agent_loop(turns[0], versions=[3, 3, 4, 4])
    out = play(loop, task)
    assert (out.extra_fields["min_global_steps"], out.extra_fields["max_global_steps"]) == (3, 4)


def test_no_log_probs_are_invented_when_the_server_returns_none(agent_loop, task, turns):
    loop, _ = agent_loop(turns[0], logprobs=False)
    assert play(loop, task).response_logprobs is None


def test_the_env_turn_limit_stops_with_max_turns_and_bao_paper_shapes_the_failure(agent_loop, task, turns):
    ids, _ = turns
    loop, _ = agent_loop(ids, "algorithm.bao.max_turns=2")
    out = play(loop, task)
    assert out.extra_fields["bao_stop_reason"] == "max_turns"
    assert out.extra_fields["bao_turn_kinds"] == ["ask", "ask"]
    # bao-paper, a failed episode of T' = 2 turns: -(0.05 (15 - 2) + 0.2) / 3 on turn 1 (BAO_RECIPE.md 4.1).
    assert out.extra_fields["turn_scores"] == pytest.approx([0.0, -0.85 / 3])


def test_a_reply_that_would_not_fit_the_response_length_stops_with_context_limit(agent_loop, task, turns):
    ids, _ = turns
    loop, _ = agent_loop(ids, f"data.max_response_length={len(ids[0]) + 5}")
    out = play(loop, task)
    assert out.extra_fields["bao_stop_reason"] == "context_limit"
    assert out.response_ids == ids[0] and out.response_mask == [1] * len(ids[0])


def test_a_spent_policy_token_budget_stops_with_max_tokens_and_the_cut_turn_is_invalid(agent_loop, task, turns):
    ids, _ = turns
    budget = len(ids[0]) + 3
    loop, server = agent_loop(ids, f"++algorithm.bao.max_tokens={budget}")
    out = play(loop, task)
    assert server.requests[1][1]["max_tokens"] == 3
    assert out.extra_fields["bao_stop_reason"] == "max_tokens"
    assert out.extra_fields["bao_turn_kinds"] == ["ask", "invalid"]
    assert sum(out.response_mask) == budget and out.response_ids[-3:] == ids[1][:3]


def test_a_group_played_by_the_agent_loop_gets_the_advantages_of_bao_train(agent_loop, task, tokenizer):
    """Four episodes of one task and user seed, through the agent loop and verl's estimator call, against bao's
    estimator on the same episodes as `bao train` builds them (its reward components, choices and spans)."""
    end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    right = render_tool_call("answer", str(task.hidden["expected_result"]))
    scripts = [[render_tool_call("action", "1 2 3 4"), right],
               [render_tool_call("answer", "0"), render_tool_call("answer", "1"), right],
               [render_tool_call("action", "1 2 3 4"), render_tool_call("action", "1 2 3 4"), "no call", right],
               [render_tool_call("answer", "3")] * 3]
    overrides = [*BAO, "algorithm.bao.max_turns=3"]
    outputs, episodes = [], []
    for texts in scripts:
        ids = [tokenizer.encode(t, add_special_tokens=False) + [end] for t in texts]
        loop, _ = agent_loop(ids, *overrides)
        outputs.append(play(loop, task))
        episodes.append(bao_train_episode(task, texts[:3], [len(i) for i in ids[:3]], loop.settings.reward))
    width = max(len(o.response_ids) for o in outputs)
    rewards = torch.tensor([o.token_rewards + [0.0] * (width - len(o.token_rewards)) for o in outputs])
    masks = [o.response_mask + [0] * (width - len(o.response_mask)) for o in outputs]
    data = DataProto.from_dict(tensors={"token_level_rewards": rewards, "response_mask": torch.tensor(masks)},
                               non_tensors={"uid": np.array(["task"] * 4, dtype=object)})
    config = loop.config.algorithm
    got = compute_advantage_for_multi_trajectories(data, batch_keys=[f"task_{b}_0" for b in range(4)],
                                                   adv_estimator="bao", gamma=1.0, norm_adv_by_std_in_grpo=True,
                                                   config=config).batch["advantages"]
    result = estimate("bao", episodes, gamma=1.0)
    starts = [[i for i in range(width) if m[i] and (i == 0 or not m[i - 1])] for m in masks]
    expected = [token_advantages(turns, m, s) for turns, m, s in zip(result.turns, masks, starts)]
    assert len(set(result.scores)) > 1, "the group must compare different returns"
    torch.testing.assert_close(got.double(), torch.tensor(expected, dtype=torch.float64), atol=1e-6, rtol=1e-5)


def bao_train_episode(task, texts: list[str], spans: list[int], reward: RewardConfig) -> Episode:
    """The episode as `bao train` hands it to the estimator (bao.pipelines.rl_data.to_episode), from a text-level
    replay of the same outputs."""
    env = make("function", max_steps=3)
    traj, ctx = start_episode(env, task, 0, "expected")
    for text in texts:
        if apply_turn(env, traj, ctx, text):
            break
    rows = turn_rewards(traj, reward)
    choices = [t.kind if t.kind in ("answer", "search") else "action" for t in traj.turns]
    return Episode(group="task", components={name: [row[name] for row in rows] for name in COMPONENTS},
                   choices=choices, span_tokens=spans[: len(traj.turns)])


def test_a_prompt_that_changed_since_the_export_is_refused(agent_loop, task, turns):
    loop, _ = agent_loop(turns[0])
    stale = [*chat_messages(task.prompt)[:-1], {"role": "user", "content": "another task"}]
    with pytest.raises(ValueError, match="bao export verl"):
        asyncio.run(loop.run(dict(SAMPLING), raw_prompt=stale, extra_info={
            "index": 0, "env": "function", "split": "train", "task_id": task.id, "seed": 0}))


def test_a_prompt_longer_than_the_rollout_prompt_length_is_refused(agent_loop, task, turns):
    loop, _ = agent_loop(turns[0], "data.max_prompt_length=64")
    with pytest.raises(ValueError, match="rollout.prompt_length=64"):
        play(loop, task)


def test_the_legacy_trainer_is_refused(agent_loop, turns):
    with pytest.raises(ValueError, match="trainer.use_v1=true"):
        agent_loop(turns[0], "trainer.use_v1=false")


def test_a_chat_template_that_is_not_append_only_names_the_fix(agent_loop, tokenizer, turns):
    """A template that drops the reasoning of earlier turns, as Qwen3's does."""
    copy = deepcopy(tokenizer)
    copy.chat_template = ("{% for m in messages %}{% if m['role'] == 'assistant' and not loop.last %}"
                          "{{ '<|im_start|>assistant\n' + m['content'].split('</think>')[-1] + '<|im_end|>\n' }}"
                          "{% else %}{{ '<|im_start|>' + m['role'] + '\n' + m['content'] + '<|im_end|>\n' }}"
                          "{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}"
                          "{% endif %}")
    with pytest.raises(ModelError, match="custom_chat_template"):
        agent_loop(turns[0], tok=copy)


def test_the_reward_components_it_records_are_every_component_of_bao_rewards(agent_loop, task, turns):
    loop, _ = agent_loop(turns[0], *BAO)
    out = play(loop, task)
    assert all(set(row) == set(COMPONENTS) for row in out.extra_fields["bao_turn_components"])
    assert {f"reward_{c}" for c in COMPONENTS} <= set(out.extra_fields["reward_extra_info"])
