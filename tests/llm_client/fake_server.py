"""A small OpenAI-compatible chat server on 127.0.0.1 for tests: replies come from a function of the request.

A reply is `(status, body)` or `(status, body, headers)`; a `bytes` body is sent as it is (malformed JSON), a
dict as JSON. A reply function may sleep (a slow server), raise `Hangup` (close the connection without an
answer) or raise `Die` (close it and stop the server: later requests find the port closed). The helpers below
build the faults and the server quirks the client must survive.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = tuple[int, Any] | tuple[int, Any, dict[str, str]]
ReplyFn = Callable[[dict[str, Any]], Reply]


class Hangup(Exception):
    """Raised by a reply function: the connection is closed without an answer."""


class Die(Hangup):
    """Raised by a reply function: the connection is closed and the server stops listening."""


def completion(content: str | None = None, tool_calls: list[tuple[str, str]] = ()) -> Reply:
    """A 200 answer with `content` and tool calls given as (name, arguments JSON string)."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = [
            {"id": f"call_{i}", "type": "function", "function": {"name": name, "arguments": arguments}}
            for i, (name, arguments) in enumerate(tool_calls)
        ]
    body = {
        "id": "chatcmpl-test", "object": "chat.completion", "created": 0, "model": "fake",
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if tool_calls else "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
    return 200, body


def error(status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    body = {"error": {"message": message, "type": "invalid_request_error"}}
    return (status, body, headers) if headers else (status, body)


class FakeServer:
    """`with FakeServer(reply) as server:` serves `reply(request) -> Reply` at `server.base_url`.

    Every request body is kept in `server.requests`. `port` reuses a port (a server restarted where the
    client and its cache expect it).
    """

    def __init__(self, reply: ReplyFn, port: int = 0) -> None:
        self.reply = reply
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []  # of each request, names in lower case
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with outer._lock:
                    outer.requests.append(request)
                    outer.headers.append({k.lower(): v for k, v in self.headers.items()})
                try:
                    status, body, *extra = outer.reply(request)
                except Hangup as exc:
                    self.close_connection = True
                    if isinstance(exc, Die):
                        threading.Thread(target=outer.stop, daemon=True).start()
                    return
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in (extra[0] if extra else {}).items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out and left

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._stopped = threading.Event()

    def __enter__(self) -> FakeServer:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop listening (idempotent): from now on connections to the port are refused."""
        if not self._stopped.is_set():
            self._stopped.set()
            self._server.shutdown()
            self._server.server_close()


def slow(seconds: float, then: Reply) -> ReplyFn:
    def reply(_request: dict[str, Any]) -> Reply:
        time.sleep(seconds)
        return then

    return reply


def sequence(*replies: Reply | type[Hangup], then: ReplyFn) -> ReplyFn:
    """The given replies (or `Hangup` / `Die` to raise) for the first requests, `then` for the others."""
    queue = list(replies)
    lock = threading.Lock()

    def reply(request: dict[str, Any]) -> Reply:
        with lock:
            head = queue.pop(0) if queue else None
        if head is None:
            return then(request)
        if isinstance(head, type):
            raise head()
        return head

    return reply


def after(n: int, fault: ReplyFn, before: ReplyFn) -> ReplyFn:
    """`before` for the first `n` requests, then `fault` for every later one (a server that breaks mid-run)."""
    count = [0]
    lock = threading.Lock()

    def reply(request: dict[str, Any]) -> Reply:
        with lock:
            count[0] += 1
            late = count[0] > n
        return fault(request) if late else before(request)

    return reply


def dies(_request: dict[str, Any]) -> Reply:
    """A reply function for `after`: the server goes away."""
    raise Die()


def ignores_tools(text_call: str, prose: str = "Let me think about the rule.") -> ReplyFn:
    """A llama.cpp-like server whose chat template drops `tools`: the model never sees them and answers prose;
    shown the tool in the system prompt (bao's text format), it writes `text_call`. It never sends tool_calls."""

    def reply(request: dict[str, Any]) -> Reply:
        system = next((m["content"] for m in request["messages"] if m["role"] == "system"), "")
        return completion(text_call if "<tools>" in (system or "") else prose)

    return reply


def rejects_null_content(reply: ReplyFn) -> ReplyFn:
    """llama.cpp's template engine fails on a message whose content is null: HTTP 500 instead of an answer."""

    def guarded(request: dict[str, Any]) -> Reply:
        if any("content" in m and m["content"] is None for m in request["messages"]):
            return error(500, "Value is not callable: null")
        return reply(request)

    return guarded
