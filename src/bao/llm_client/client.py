"""`ChatClient`: one chat completion per request, with a timeout, retries with backoff, and an optional cache.

Retried: timeouts, connection errors, 429 (rate limit) and 5xx, up to `max_retries` times after the first
try, waiting `backoff * 2**k` seconds (times a jitter in [0.5, 1.5)) before retry k. Not retried: other 4xx
(a bad request stays bad), raised as `RequestRejected` so a caller can adapt (e.g. drop native tools).
A response is a plain dict: `{"content": str | None, "tool_calls": [{"id", "name", "arguments"}],
"finish_reason": str}`, the same whether it came from the server or the cache.
"""

from __future__ import annotations

import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from bao.llm_client.cache import ResponseCache, request_key


class LLMError(RuntimeError):
    """The endpoint could not give an answer; the message says which and why."""


class RequestRejected(LLMError):
    """The server refused the request itself (HTTP 4xx other than 429)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class ClientConfig:
    """Where and how to reach an OpenAI-compatible endpoint."""

    base_url: str | None = None  # e.g. http://127.0.0.1:8000/v1 for vLLM; None = OpenAI (or $OPENAI_BASE_URL)
    api_key_env: str = "OPENAI_API_KEY"  # variable holding the key; local servers accept the placeholder
    timeout: float = 60.0  # seconds for one request
    max_retries: int = 4  # retries after the first try, for timeouts, connection errors, 429 and 5xx
    backoff: float = 1.0  # seconds before the first retry, doubled for each next one
    concurrency: int = 8  # requests in flight at once in `chat_many`
    cache: str | None = None  # SQLite file of responses keyed by request; None = no cache


class ChatClient:
    """A thread-safe client; `chat_many` sends a batch concurrently and returns answers in order."""

    def __init__(self, config: ClientConfig) -> None:
        import openai

        self.config = config
        self.endpoint = config.base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
        api_key = os.environ.get(config.api_key_env) or "EMPTY"
        self._client = openai.OpenAI(base_url=self.endpoint, api_key=api_key, timeout=config.timeout, max_retries=0)
        self._errors = openai
        self.cache = ResponseCache(config.cache) if config.cache else None
        self._jitter = random.Random(0)
        self._jitter_lock = threading.Lock()

    def chat(self, request: dict[str, Any]) -> dict[str, Any]:
        """One chat completion. `request` holds the keyword arguments of `chat.completions.create`."""
        if self.cache is None:
            return self._with_retries(request)
        key = request_key(self.endpoint, request)
        if (hit := self.cache.get(key)) is not None:
            return hit
        answer = self._with_retries(request)
        self.cache.put(key, answer)
        return answer

    def chat_many(self, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if len(requests) <= 1 or self.config.concurrency <= 1:
            return [self.chat(r) for r in requests]
        with ThreadPoolExecutor(max_workers=min(self.config.concurrency, len(requests))) as pool:
            return list(pool.map(self.chat, requests))

    def _with_retries(self, request: dict[str, Any]) -> dict[str, Any]:
        errors = self._errors
        retryable = (errors.APITimeoutError, errors.APIConnectionError, errors.RateLimitError,
                     errors.InternalServerError)
        for attempt in range(self.config.max_retries + 1):
            try:
                return _answer(self._client.chat.completions.create(**request))
            except retryable as exc:
                last = exc
            except errors.APIStatusError as exc:
                if exc.status_code >= 500:
                    last = exc
                else:
                    raise RequestRejected(f"{self.endpoint} refused the request ({exc.status_code}): "
                                          f"{_message(exc)}", exc.status_code) from None
            if attempt < self.config.max_retries:
                with self._jitter_lock:
                    jitter = 0.5 + self._jitter.random()
                time.sleep(self.config.backoff * 2**attempt * jitter)
        raise LLMError(f"no answer from {self.endpoint} after {self.config.max_retries + 1} tries: "
                       f"{type(last).__name__}: {_message(last)}")


def _answer(completion: Any) -> dict[str, Any]:
    choice = completion.choices[0]
    calls = [
        {"id": call.id, "name": call.function.name, "arguments": call.function.arguments}
        for call in (choice.message.tool_calls or [])
    ]
    return {"content": choice.message.content, "tool_calls": calls, "finish_reason": choice.finish_reason}


def _message(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
