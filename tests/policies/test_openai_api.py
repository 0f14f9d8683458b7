from __future__ import annotations

import json

import pytest

pytest.importorskip("openai")

from bao.agent.parse import parse_action  # noqa: E402
from bao.agent.render import render_tool_call  # noqa: E402
from bao.agent.wire import TOOL_NAME, TOOL_SCHEMA  # noqa: E402
from bao.core.types import ActionKind, Task  # noqa: E402
from bao.llm_client import ClientConfig, RequestRejected  # noqa: E402
from bao.policies.base import Context  # noqa: E402
from bao.policies.openai_api import OpenAIPolicy, OpenAIPolicyConfig, native_messages, output_text  # noqa: E402
from tests.conftest import needs_data  # noqa: E402
from tests.llm_client.fake_server import (  # noqa: E402
    FakeServer,
    completion,
    error,
    ignores_tools,
    rejects_null_content,
)

SEARCH = (TOOL_NAME, json.dumps({"choice": "search", "content": "test"}))
TASK = Task(id="f1", env="function", split="test",
            prompt=[{"role": "system", "content": "Find the rule."}, {"role": "user", "content": "Begin."}])


def policy(server: FakeServer, mode: str = "auto") -> OpenAIPolicy:
    client = ClientConfig(base_url=server.base_url, timeout=2.0, backoff=0.01)
    return OpenAIPolicy(OpenAIPolicyConfig(model="fake", client=client, tool_mode=mode))


def context(*turns: tuple[str, str]) -> Context:
    messages = [dict(m) for m in TASK.prompt]
    for output, observation in turns:
        messages += [{"role": "assistant", "content": output}, {"role": "tool", "content": observation}]
    return Context(task=TASK, messages=messages, seed=0, turn=len(turns))


def test_native_mode_offers_the_tool_and_reads_the_call_back_as_an_action():
    with FakeServer(lambda _r: completion("I need the test case.", [SEARCH])) as server:
        text = policy(server).act(context())
    request = server.requests[0]
    assert request["tools"] == [TOOL_SCHEMA] and request["model"] == "fake"
    assert request["messages"] == TASK.prompt
    action = parse_action(text)
    assert (action.kind, action.content, action.reasoning) == (ActionKind.SEARCH, "test", "I need the test case.")


def test_past_calls_go_back_as_tool_calls_answered_by_tool_messages():
    past = (render_tool_call("search", "test", "look"), "Test case: [1, 2, 3, 4]")
    broken = ("no call at all", "Invalid action format.")
    with FakeServer(lambda _r: completion(None, [SEARCH])) as server:
        policy(server).act(context(past, broken))
    messages = server.requests[0]["messages"]
    assert messages[2]["tool_calls"][0]["function"] == {
        "name": TOOL_NAME, "arguments": json.dumps({"choice": "search", "content": "test"})}
    assert messages[2]["content"] == "look"
    assert messages[3] == {"role": "tool", "tool_call_id": messages[2]["tool_calls"][0]["id"],
                           "content": "Test case: [1, 2, 3, 4]"}
    assert messages[4] == {"role": "assistant", "content": "no call at all"}
    assert messages[5] == {"role": "user", "content": "Invalid action format."}


def test_auto_mode_switches_to_the_text_format_when_the_server_refuses_tools():
    call = render_tool_call("answer", "42")

    def reply(request):
        return error(400, "tools are not supported by this server") if "tools" in request else completion(call)

    with FakeServer(reply) as server:
        agent = policy(server)
        first = agent.act(context())
        second = agent.act(context((first, "Your answer is wrong.")))
    assert parse_action(first).kind is ActionKind.ANSWER and agent.mode == "text"
    assert ["tools" in r for r in server.requests] == [True, False, False]
    text_request = server.requests[2]
    assert "<tools>" in text_request["messages"][0]["content"]
    assert text_request["messages"][-1] == {
        "role": "user", "content": "<tool_response>\nYour answer is wrong.\n</tool_response>"}
    assert parse_action(second).content == "42"


def test_auto_mode_switches_to_text_once_when_the_server_ignores_tools(capsys):
    with FakeServer(ignores_tools(render_tool_call("answer", "42"))) as server:
        agent = policy(server)
        first = agent.act_batch([context(), context()])
        second = agent.act(context((first[0], "Your answer is wrong.")))
    assert agent.mode == "text"
    assert ["tools" in r for r in server.requests] == [True, True, False, False, False]
    assert [parse_action(text).content for text in [*first, second]] == ["42", "42", "42"]
    notices = capsys.readouterr().err.strip().splitlines()
    assert len(notices) == 1 and server.base_url in notices[0] and "text tool format" in notices[0]


def test_a_server_that_calls_tools_in_the_first_batch_stays_native(capsys):
    replies = iter([completion(None, [SEARCH]), completion("prose, no call"), completion("still prose")])
    with FakeServer(lambda _r: next(replies)) as server:
        agent = policy(server)
        agent.act_batch([context(), context()])
        agent.act(context(("x", "y")))
    assert agent.mode == "native" and all("tools" in r for r in server.requests)
    assert capsys.readouterr().err == ""


def test_a_call_without_text_goes_back_with_empty_content_not_null():
    with FakeServer(rejects_null_content(lambda _r: completion(None, [SEARCH]))) as server:
        agent = policy(server, mode="native")
        first = agent.act(context())
        agent.act(context((first, "Test case: [1, 2, 3, 4]")))
    assert [r["messages"][-2].get("content") for r in server.requests[1:]] == [""]
    assert all(m["content"] is not None for r in server.requests for m in r["messages"])


def test_native_mode_without_fallback_reports_the_refusal():
    with FakeServer(lambda _r: error(400, "tools are not supported")) as server:
        with pytest.raises(RequestRejected, match="tools are not supported"):
            policy(server, mode="native").act(context())


def test_two_tool_calls_in_one_reply_are_an_invalid_turn():
    text = output_text({"content": None, "tool_calls": [{"name": TOOL_NAME, "arguments": SEARCH[1]}] * 2})
    assert parse_action(text).kind is ActionKind.INVALID


def test_malformed_tool_arguments_reach_the_parser_as_written():
    text = output_text({"content": "", "tool_calls": [{"name": TOOL_NAME, "arguments": '{"choice": "answer", '}]})
    action = parse_action(text)
    assert action.kind is ActionKind.INVALID and "not valid JSON" in action.error
    echoed = native_messages([{"role": "assistant", "content": text}])[0]["tool_calls"][0]["function"]
    assert echoed["arguments"] == '{"choice": "answer", '  # replayed to the server exactly as the model wrote it


def test_the_same_seed_sends_the_same_sampling_seed_each_turn():
    with FakeServer(lambda _r: completion(None, [SEARCH])) as server:
        agent = policy(server)
        agent.act_batch([context(), context()])
        agent.act(context(("x", "y")))
    seeds = [r["seed"] for r in server.requests]
    assert seeds[0] == seeds[1] != seeds[2]


@needs_data
def test_evaluate_plays_an_api_model_through_the_harness(tmp_path):
    from bao.pipelines.evaluate import EvalConfig, evaluate

    with FakeServer(lambda _r: completion("Get the test case first.", [SEARCH])) as server:
        result = evaluate(EvalConfig(env="function", n=2, max_turns=2), policy(server), tmp_path)
    assert len(result.trajectories) == 2 and result.metrics["invalid_rate"].mean == 0.0
    turn = result.trajectories[0].turns[0]
    assert (turn.kind, turn.reasoning) == ("search", "Get the test case first.")
    assert turn.observation.startswith("Test case:")
