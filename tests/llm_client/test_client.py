from __future__ import annotations

import time
from email.utils import formatdate
from types import SimpleNamespace

import pytest

pytest.importorskip("openai")

from bao.llm_client import ChatClient, ClientConfig, LLMError, RequestRejected  # noqa: E402
from bao.llm_client.client import retry_after  # noqa: E402
from tests.llm_client.fake_server import FakeServer, Hangup, completion, error, sequence, slow  # noqa: E402

KEY = "sk-bao-test-NOT-A-REAL-KEY-7f3a"

REQUEST = {"model": "fake", "messages": [{"role": "user", "content": "hi"}], "temperature": 0.7, "seed": 3}


def client(server: FakeServer, **kwargs) -> ChatClient:
    return ChatClient(ClientConfig(base_url=server.base_url, timeout=2.0, backoff=0.01, **kwargs))


def test_a_completion_comes_back_as_content_tool_calls_finish_reason_and_usage():
    reply = completion("thinking", [("interact_with_env", '{"choice": "answer", "content": "7"}')])
    with FakeServer(lambda _r: reply) as server:
        answer = client(server).chat(REQUEST)
    assert answer == {
        "content": "thinking",
        "tool_calls": [
            {"id": "call_0", "name": "interact_with_env", "arguments": '{"choice": "answer", "content": "7"}'},
        ],
        "finish_reason": "tool_calls",
        "usage": {"prompt_tokens": 1, "completion_tokens": 1},
    }
    assert server.requests == [REQUEST]


@pytest.mark.parametrize("status", [429, 500, 503])
def test_rate_limits_and_server_errors_are_retried_until_an_answer(status):
    replies = iter([error(status, "busy"), error(status, "busy"), completion("ok")])
    with FakeServer(lambda _r: next(replies)) as server:
        assert client(server).chat(REQUEST)["content"] == "ok"
    assert len(server.requests) == 3


def test_a_bad_request_is_not_retried_and_says_what_the_server_said():
    with FakeServer(lambda _r: error(400, "tools are not supported")) as server:
        with pytest.raises(RequestRejected, match="tools are not supported") as caught:
            client(server).chat(REQUEST)
    assert caught.value.status == 400 and len(server.requests) == 1


def test_a_server_slower_than_the_timeout_fails_after_the_retries():
    with FakeServer(slow(1.0, completion("late"))) as server:
        with pytest.raises(LLMError, match="after 2 tries: APITimeoutError"):
            ChatClient(ClientConfig(base_url=server.base_url, timeout=0.2, max_retries=1, backoff=0.01)).chat(REQUEST)
    assert len(server.requests) == 2


def test_an_unreachable_endpoint_is_a_clear_error():
    with FakeServer(lambda _r: completion("x")) as server:
        url = server.base_url
    with pytest.raises(LLMError, match=f"no answer from {url}"):
        ChatClient(ClientConfig(base_url=url, timeout=0.5, max_retries=0)).chat(REQUEST)


def test_cached_requests_are_answered_without_the_server(tmp_path):
    with FakeServer(lambda r: completion(f"seed {r['seed']}")) as server:
        first = client(server, cache=str(tmp_path / "llm.sqlite"))
        assert first.chat(REQUEST)["content"] == "seed 3"
        again = client(server, cache=str(tmp_path / "llm.sqlite"))  # a new run reads the same file
        assert again.chat(REQUEST)["content"] == "seed 3"
        assert again.chat({**REQUEST, "seed": 4})["content"] == "seed 4"
    assert [r["seed"] for r in server.requests] == [3, 4]


def test_chat_many_answers_in_request_order():
    with FakeServer(lambda r: completion(r["messages"][0]["content"])) as server:
        requests = [{**REQUEST, "messages": [{"role": "user", "content": str(i)}]} for i in range(12)]
        answers = client(server, concurrency=4).chat_many(requests)
    assert [a["content"] for a in answers] == [str(i) for i in range(12)]


def test_retry_after_is_honoured_before_the_retry():
    replies = iter([error(429, "slow down", {"Retry-After": "0.4"}), completion("ok")])
    with FakeServer(lambda _r: next(replies)) as server:
        start = time.perf_counter()
        assert client(server).chat(REQUEST)["content"] == "ok"
        waited = time.perf_counter() - start
    assert waited >= 0.4 and len(server.requests) == 2


def test_a_long_retry_after_is_capped():
    replies = iter([error(429, "come back in an hour", {"Retry-After": "3600"}), completion("ok")])
    with FakeServer(lambda _r: next(replies)) as server:
        start = time.perf_counter()
        assert client(server, max_retry_after=0.1).chat(REQUEST)["content"] == "ok"
    assert time.perf_counter() - start < 2.0


@pytest.mark.parametrize(("headers", "seconds"), [
    ({"retry-after": "2"}, 2.0), ({"retry-after-ms": "250"}, 0.25), ({"retry-after": "soon"}, None), ({}, None)])
def test_retry_after_reads_seconds_and_milliseconds(headers, seconds):
    assert retry_after(SimpleNamespace(headers=headers)) == seconds


def test_retry_after_reads_an_http_date():
    in_a_minute = formatdate(time.time() + 60, usegmt=True)
    assert 55 <= retry_after(SimpleNamespace(headers={"retry-after": in_a_minute})) <= 60


@pytest.mark.parametrize("body", [b'{"choices": [', b"<html>502 Bad Gateway</html>", b'{"object": "list"}'])
def test_a_malformed_answer_is_retried_then_named(body):
    with FakeServer(lambda _r: (200, body)) as server:
        with pytest.raises(LLMError, match=f"no answer from {server.base_url} after 3 tries: MalformedResponse"):
            client(server, max_retries=2).chat(REQUEST)
    assert len(server.requests) == 3


def test_a_malformed_answer_then_a_good_one_is_an_answer():
    replies = iter([(200, b'{"choices": ['), completion("ok")])
    with FakeServer(lambda _r: next(replies)) as server:
        assert client(server).chat(REQUEST)["content"] == "ok"


def test_a_connection_dropped_without_answer_is_retried():
    with FakeServer(sequence(Hangup, then=lambda _r: completion("ok"))) as server:
        assert client(server).chat(REQUEST)["content"] == "ok"
    assert len(server.requests) == 2


def test_the_api_key_is_sent_but_never_shown(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with FakeServer(lambda _r: error(401, f"Incorrect API key provided: {KEY}")) as server:
        with pytest.raises(RequestRejected) as refused:
            client(server).chat(REQUEST)
    with FakeServer(lambda _r: error(503, f"upstream refused key {KEY}")) as server:
        with pytest.raises(LLMError) as failed:
            client(server, max_retries=0).chat(REQUEST)
    assert server.headers[0]["authorization"] == f"Bearer {KEY}"
    for exc in (refused.value, failed.value):
        assert KEY not in str(exc) and "***" in str(exc)


def test_bao_llm_variables_override_the_defaults(monkeypatch):
    monkeypatch.setenv("BAO_LLM_TIMEOUT", "0.5")
    monkeypatch.setenv("BAO_LLM_MAX_RETRIES", "1")
    config = ClientConfig()
    assert (config.timeout, config.max_retries, config.backoff) == (0.5, 1, 1.0)
    monkeypatch.setenv("BAO_LLM_MAX_RETRIES", "many")
    with pytest.raises(ValueError, match=r"\$BAO_LLM_MAX_RETRIES must be a number \(int\), got 'many'"):
        ClientConfig()


def test_a_multi_line_server_error_is_reported_on_one_line():
    report = "7 validation errors:\n  {'type': 'string_type', 'msg': 'Input should be a valid string'}\n  Traceback"
    with FakeServer(lambda _r: error(500, report)) as server:
        with pytest.raises(LLMError) as failed:
            client(server, max_retries=0).chat(REQUEST)
    assert str(failed.value).endswith("InternalServerError: 7 validation errors:") and "\n" not in str(failed.value)
