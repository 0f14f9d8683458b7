from __future__ import annotations

import pytest

pytest.importorskip("openai")

from bao.llm_client import ChatClient, ClientConfig, LLMError, RequestRejected  # noqa: E402
from tests.llm_client.fake_server import FakeServer, completion, error, slow  # noqa: E402

REQUEST = {"model": "fake", "messages": [{"role": "user", "content": "hi"}], "temperature": 0.7, "seed": 3}


def client(server: FakeServer, **kwargs) -> ChatClient:
    return ChatClient(ClientConfig(base_url=server.base_url, timeout=2.0, backoff=0.01, **kwargs))


def test_a_completion_comes_back_as_content_tool_calls_and_finish_reason():
    reply = completion("thinking", [("interact_with_env", '{"choice": "answer", "content": "7"}')])
    with FakeServer(lambda _r: reply) as server:
        answer = client(server).chat(REQUEST)
    assert answer == {
        "content": "thinking",
        "tool_calls": [
            {"id": "call_0", "name": "interact_with_env", "arguments": '{"choice": "answer", "content": "7"}'},
        ],
        "finish_reason": "tool_calls",
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
