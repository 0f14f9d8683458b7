from __future__ import annotations

import threading

import pytest

pytest.importorskip("openai")

from bao.users.llm import (  # noqa: E402
    LLMUser,
    LLMUserConfig,
    backend_user,
    cost,
    parse_json_object,
    shared_user,
    strip_thinking,
    total_usage,
    turn_seed,
    usage_since,
)
from tests.llm_client.fake_server import FakeServer, completion, error  # noqa: E402


def user(server: FakeServer, **kwargs) -> LLMUser:
    return LLMUser(LLMUserConfig(model="fake", base_url=server.base_url, timeout=2.0, max_retries=1, **kwargs))


@pytest.mark.parametrize("reply", [
    '```json\n{"response": "Yes"}\n```',
    '{"response": "Yes"}',
    "Sure! Here it is: {'response': 'Yes'} hope it helps",
    "<think>The question... {\"response\": \"No\"}</think>\n```json\n{\"response\": \"Yes\"}\n```",
    '{"response": "Yes"}\n```',
])
def test_replies_are_parsed_from_fences_bare_json_or_python_literals(reply):
    assert parse_json_object(reply) == {"response": "Yes"}


@pytest.mark.parametrize("reply", [None, "", "Yes", "<think>{\"response\": \"Yes\"} and then the reply was cut",
                                   "[1, 2]", "{not json at all}"])
def test_replies_without_an_object_give_none(reply):
    assert parse_json_object(reply) is None


def test_python_literals_with_true_and_false_parse():
    assert parse_json_object("{'task_related': False, 'covered': []}") == {"task_related": False, "covered": []}


def test_thinking_is_stripped_even_when_unclosed():
    assert strip_thinking("<think>hmm</think> answer") == "answer"
    assert strip_thinking("<think>still thinking") == ""


def test_ask_json_sends_system_user_temperature_and_seed():
    with FakeServer(lambda _r: completion('{"response": "No"}')) as server:
        reply = user(server, temperature=0.3, max_tokens=77).ask_json("sys", "prompt", seed=turn_seed(2, 5))
    assert reply == {"response": "No"}
    [request] = server.requests
    assert request["messages"] == [{"role": "system", "content": "sys"}, {"role": "user", "content": "prompt"}]
    assert (request["model"], request["temperature"], request["max_tokens"], request["seed"]) == ("fake", 0.3, 77,
                                                                                                   2005)


def test_json_mode_asks_for_a_json_object_and_is_off_by_default():
    with FakeServer(lambda _r: completion('{"response": "No"}')) as server:
        user(server).ask_json("sys", "prompt", seed=0)
        user(server, json_mode=True).ask_json("sys", "prompt", seed=0)
    plain, constrained = server.requests
    assert "response_format" not in plain and constrained["response_format"] == {"type": "json_object"}


def test_a_reply_without_json_is_none_and_still_counted():
    with FakeServer(lambda _r: completion("I refuse")) as server:
        asker = user(server)
        assert asker.ask_json("s", "p", seed=0) is None
    assert asker.usage["requests"] == 1


def test_usage_counts_requests_cache_hits_and_the_servers_tokens(tmp_path):
    cache = str(tmp_path / "user.sqlite")
    with FakeServer(lambda _r: completion('{"response": "Yes"}')) as server:  # reports 1 + 1 tokens
        first = user(server, cache=cache)
        first.ask_json("s", "p", seed=1)
        again = user(server, cache=cache)
        again.ask_json("s", "p", seed=1)
        again.ask_json("s", "p", seed=2)
    assert len(server.requests) == 2
    assert first.usage == {"requests": 1, "cache_hits": 0, "prompt_tokens": 1, "completion_tokens": 1,
                           "estimated_requests": 0}
    assert again.usage == {"requests": 1, "cache_hits": 1, "prompt_tokens": 1, "completion_tokens": 1,
                           "estimated_requests": 0}


def test_tokens_are_estimated_and_flagged_when_the_server_reports_none():
    status, body = completion('{"response": "Yes"}')
    del body["usage"]
    with FakeServer(lambda _r: (status, body)) as server:
        asker = user(server)
        asker.ask_json("s" * 40, "p" * 40, seed=1)
    assert asker.usage == {"requests": 1, "cache_hits": 0, "prompt_tokens": 20, "completion_tokens": 5,
                           "estimated_requests": 1}


def test_usage_counters_are_thread_safe():
    with FakeServer(lambda _r: completion("{}")) as server:
        asker = user(server)
        threads = [threading.Thread(target=asker.ask_json, args=("s", "p"), kwargs={"seed": i}) for i in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert asker.usage["requests"] == 16 == len(server.requests)


def test_a_dead_endpoint_raises_a_one_line_error_naming_it():
    from bao.llm_client import LLMError

    with FakeServer(lambda _r: error(503, "down")) as server:
        with pytest.raises(LLMError, match=server.base_url):
            user(server).ask_json("s", "p", seed=0)


def test_shared_users_are_one_per_config_and_their_usage_adds_up():
    with FakeServer(lambda _r: completion("{}")) as server:
        config = LLMUserConfig(model="fake-shared", base_url=server.base_url)
        assert shared_user(config) is shared_user(LLMUserConfig(model="fake-shared", base_url=server.base_url))
        before = total_usage()
        shared_user(config).ask_json("s", "p", seed=0)
        assert usage_since(before)["requests"] == 1


def test_cost_uses_prices_per_million_tokens():
    usage = {"prompt_tokens": 2_000_000, "completion_tokens": 500_000}
    assert cost(usage, 0.5, 2.0) == pytest.approx(2.0)


def test_backend_user_checks_the_backend_and_the_model():
    assert backend_user("x", ("offline", "llm"), "offline", None) is None
    with pytest.raises(ValueError, match="x has no 'llm' user"):
        backend_user("x", ("offline",), "llm", LLMUserConfig(model="m"))
    with pytest.raises(ValueError, match="needs a model"):
        backend_user("x", ("offline", "llm"), "llm", None)
