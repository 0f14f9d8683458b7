"""`ChatClient`: one chat completion per request, with a timeout, retries with backoff, and an optional cache.

Retried: timeouts, connection errors (refused, reset, a server gone mid-run), 429 (rate limit), 5xx and
malformed answers (a body that is not JSON, or JSON without a message), up to `max_retries` times after the
first try. Before retry k the client waits what the server asked for in `Retry-After` (or `retry-after-ms`),
capped at `max_retry_after`, and otherwise `backoff * 2**k` seconds (times a jitter in [0.5, 1.5)). Not
retried: other 4xx (a bad request stays bad), raised as `RequestRejected` so a caller can adapt (e.g. drop
native tools). When the retries run out, `LLMError` says in one line which endpoint failed and how.
No message ever holds the API key: servers echo it in some errors (401), so it is masked.
A response is a plain dict: `{"content": str | None, "tool_calls": [{"id", "name", "arguments"}],
"finish_reason": str}`, plus `"usage": {"prompt_tokens", "completion_tokens"}` when the server reports it (what a
run records as its token usage and cost), the same whether it came from the server or the cache.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

from bao.llm_client.cache import ResponseCache, request_key


class LLMError(RuntimeError):
    """The endpoint could not give an answer; the message says which and why."""


class RequestRejected(LLMError):
    """The server refused the request itself (HTTP 4xx other than 429)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class MalformedResponse(Exception):
    """A 200 answer that is not a chat completion (retried like a server error)."""


def env_default(name: str, default: float | int) -> Callable[[], Any]:
    """A dataclass default that the environment variable `name` overrides, so that commands without a flag for
    it (`bao eval`, LLM users) can be tuned for a slow local server, and tests can be fast."""

    def factory() -> Any:
        raw = os.environ.get(name)
        if raw is None:
            return default
        try:
            return type(default)(raw)
        except ValueError:
            raise ValueError(f"${name} must be a number ({type(default).__name__}), got {raw!r}") from None

    return factory


@dataclass
class ClientConfig:
    """Where and how to reach an OpenAI-compatible endpoint; `BAO_LLM_*` variables override the defaults."""

    base_url: str | None = None  # e.g. http://127.0.0.1:8000/v1 for vLLM; None = OpenAI (or $OPENAI_BASE_URL)
    api_key_env: str = "OPENAI_API_KEY"  # variable holding the key; local servers accept the placeholder
    # seconds for one request ($BAO_LLM_TIMEOUT)
    timeout: float = field(default_factory=env_default("BAO_LLM_TIMEOUT", 60.0))
    # retries after the first try, for timeouts, connection errors, 429, 5xx and malformed answers
    max_retries: int = field(default_factory=env_default("BAO_LLM_MAX_RETRIES", 4))
    # seconds before the first retry, doubled for each next one ($BAO_LLM_BACKOFF)
    backoff: float = field(default_factory=env_default("BAO_LLM_BACKOFF", 1.0))
    # longest wait a Retry-After header may impose before a retry ($BAO_LLM_MAX_RETRY_AFTER)
    max_retry_after: float = field(default_factory=env_default("BAO_LLM_MAX_RETRY_AFTER", 60.0))
    # requests in flight at once in `chat_many` ($BAO_LLM_CONCURRENCY)
    concurrency: int = field(default_factory=env_default("BAO_LLM_CONCURRENCY", 8))
    cache: str | None = None  # SQLite file of responses keyed by request; None = no cache


class ChatClient:
    """A thread-safe client; `chat_many` sends a batch concurrently and returns answers in order."""

    def __init__(self, config: ClientConfig) -> None:
        import openai

        self.config = config
        self.endpoint = config.base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
        api_key = os.environ.get(config.api_key_env) or "EMPTY"
        self._secret = api_key if api_key != "EMPTY" else None
        self._client = openai.OpenAI(base_url=self.endpoint, api_key=api_key, timeout=config.timeout, max_retries=0)
        self._errors = openai
        self.cache = ResponseCache(config.cache) if config.cache else None
        self._jitter = random.Random(0)
        self._jitter_lock = threading.Lock()

    def chat(self, request: dict[str, Any]) -> dict[str, Any]:
        """One chat completion. `request` holds the keyword arguments of `chat.completions.create`."""
        return self.chat_cached(request)[0]

    def chat_cached(self, request: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """`chat`, and whether the answer came from the cache (no request sent): what usage counters need."""
        if self.cache is None:
            return self._with_retries(request), False
        key = request_key(self.endpoint, request)
        if (hit := self.cache.get(key)) is not None:
            return hit, True
        answer = self._with_retries(request)
        self.cache.put(key, answer)
        return answer, False

    def chat_many(self, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if len(requests) <= 1 or self.config.concurrency <= 1:
            return [self.chat(r) for r in requests]
        with ThreadPoolExecutor(max_workers=min(self.config.concurrency, len(requests))) as pool:
            return list(pool.map(self.chat, requests))

    def _with_retries(self, request: dict[str, Any]) -> dict[str, Any]:
        errors = self._errors
        retryable = (errors.APITimeoutError, errors.APIConnectionError, errors.RateLimitError,
                     errors.InternalServerError)
        malformed = (json.JSONDecodeError, errors.APIResponseValidationError)
        for attempt in range(self.config.max_retries + 1):
            try:
                return _answer(self._client.chat.completions.create(**request))
            except retryable as exc:
                last: Exception = exc
            except malformed as exc:
                last = MalformedResponse(f"not a chat completion ({_message(exc)})")
            except MalformedResponse as exc:
                last = exc
            except errors.APIStatusError as exc:
                if exc.status_code < 500:
                    raise RequestRejected(self._redact(f"{self.endpoint} refused the request ({exc.status_code}): "
                                                       f"{_message(exc)}"), exc.status_code) from None
                last = exc
            if attempt < self.config.max_retries:
                time.sleep(self._wait(attempt, last))
        raise LLMError(self._redact(f"no answer from {self.endpoint} after {self.config.max_retries + 1} tries: "
                                    f"{type(last).__name__}: {_message(last)}"))

    def _wait(self, attempt: int, exc: Exception) -> float:
        """Seconds before retry `attempt`: the server's Retry-After (capped), else exponential backoff."""
        asked = retry_after(getattr(exc, "response", None))
        if asked is not None:
            return min(asked, self.config.max_retry_after)
        with self._jitter_lock:
            jitter = 0.5 + self._jitter.random()
        return self.config.backoff * 2**attempt * jitter

    def _redact(self, text: str) -> str:
        return text.replace(self._secret, "***") if self._secret else text


def retry_after(response: Any) -> float | None:
    """The wait a response asks for, in seconds: `retry-after-ms`, or `Retry-After` as seconds or an HTTP date;
    None when it asks for none (or says something unreadable)."""
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    if (millis := headers.get("retry-after-ms")) is not None:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _answer(completion: Any) -> dict[str, Any]:
    choices = getattr(completion, "choices", None)
    if not choices or getattr(choices[0], "message", None) is None:
        raise MalformedResponse("the answer has no choices[0].message")
    choice = choices[0]
    calls = [
        {"id": call.id, "name": call.function.name, "arguments": call.function.arguments}
        for call in (choice.message.tool_calls or [])
    ]
    answer = {"content": choice.message.content, "tool_calls": calls, "finish_reason": choice.finish_reason}
    usage = getattr(completion, "usage", None)
    if usage is not None:
        answer["usage"] = {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens}
    return answer


def _message(exc: Exception, limit: int = 300) -> str:
    """What the server (or the transport) said, on one line: errors must stay one line in a terminal, and some
    servers answer with a multi-line validation report or a traceback."""
    body = getattr(exc, "body", None)
    text = str(exc)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            text = str(inner["message"])
    first = next((line.strip() for line in text.splitlines() if line.strip()), type(exc).__name__)
    return first if len(first) <= limit else first[:limit] + "..."
