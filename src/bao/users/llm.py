"""LLM-backed simulated users and judges: one chat call per question, reply or verdict, parsed as a JSON object.

This is UserRL's own mode (USERRL_NOTES §1, conventions): the user (and the judge) is an LLM behind an
OpenAI-compatible endpoint, called with a system and a user message, its reply parsed as JSON. bao builds it on
`bao.llm_client.ChatClient`, so it retries, times out and caches like the API policy:
- every request carries a `seed` (the episode seed and the turn, `turn_seed`), so with a cache (`cache=` a
  SQLite file) a rerun replays every reply without a request, and at temperature 0 a server that honours seeds
  answers the same way again;
- a reply is parsed leniently, as UserRL's gyms do (```json fences, bare JSON, or a Python-literal dict), after
  dropping `<think>...</think>` (Qwen3 prints its reasoning into `content`, which broke UserRL's parsers);
  no JSON object -> `None`, and the env falls back to its canned reply, as UserRL does;
- an endpoint that stays down after the retries raises `LLMError` (naming the endpoint): an evaluation stops
  with one clear line instead of silently scoring 0, UserRL's behaviour;
- the key is read from the environment variable named by `api_key_env`, by the client only: it is never part
  of a config, a setting, a log line or an output file.

Envs get their user with `shared_user(config)`, one per config in a process, so that every env of a run shares
one connection pool and cache and `total_usage()` can report what the run cost (see `bao.pipelines.evaluate`).
"""

from __future__ import annotations

import ast
import json
import re
import threading
from dataclasses import dataclass
from typing import Any

from bao.llm_client import ChatClient, ClientConfig

USAGE_KEYS = ("requests", "cache_hits", "prompt_tokens", "completion_tokens", "estimated_requests")
CHARS_PER_TOKEN = 4  # for requests whose server reported no token counts (the estimate is flagged)
BACKENDS = ("offline", "llm")


@dataclass(frozen=True)
class LLMUserConfig:
    """Which model plays the user and how to reach it; the key itself lives only in the environment."""

    model: str
    base_url: str | None = None  # None -> $OPENAI_BASE_URL -> OpenAI
    api_key_env: str = "OPENAI_API_KEY"  # name of the env var holding the key; the key is never printed/logged/written
    temperature: float = 0.0
    max_tokens: int = 512
    timeout: float = 60.0
    max_retries: int = 4
    cache: str | None = None  # SQLite response cache (bao.llm_client.cache)
    json_mode: bool = False  # ask for `response_format: json_object` (constrained decoding on vLLM, llama.cpp,
    # OpenAI): small models that would write prose then always give a parsable reply


_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"```(?:json|python)?\s*(.*?)(?:```|$)", re.DOTALL | re.IGNORECASE)


def strip_thinking(text: str) -> str:
    """`text` without `<think>` blocks (an unclosed one runs to the end: the reply was cut inside it)."""
    return _THINK.sub("", text).strip()


def parse_json_object(text: str | None) -> dict | None:
    """The JSON object in a model reply: inside ```json fences, the whole reply, or its outermost `{...}`;
    parsed as JSON, else as a Python literal (single quotes, True/False), as UserRL's gyms accept. None when
    there is no object."""
    if not text:
        return None
    text = strip_thinking(text)
    candidates = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start : end + 1])
    for candidate in candidates:
        candidate = candidate.strip()
        for parse in (json.loads, ast.literal_eval):
            try:
                value = parse(candidate)
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                continue
            if isinstance(value, dict):
                return value
    return None


def turn_seed(seed: int, turn: int) -> int:
    """The request seed of an episode's turn: distinct per (seed, turn), stable across runs."""
    return seed * 1000 + turn


class LLMUser:
    """Asks an endpoint for JSON verdicts; thread-safe, with request and token counters (`usage`)."""

    def __init__(self, config: LLMUserConfig, client: Any = None) -> None:
        self.config = config
        self.client = client or ChatClient(ClientConfig(
            base_url=config.base_url, api_key_env=config.api_key_env, timeout=config.timeout,
            max_retries=config.max_retries, cache=config.cache))
        self._lock = threading.Lock()
        self._usage = dict.fromkeys(USAGE_KEYS, 0)

    @property
    def usage(self) -> dict:
        """Requests sent, replies taken from the cache, and tokens of the requests sent. Tokens come from the
        server's `usage` when the client passes it on; otherwise they are estimated from the text length
        (`CHARS_PER_TOKEN`) and `estimated_requests` counts those requests."""
        with self._lock:
            return dict(self._usage)

    def ask_json(self, system: str, prompt: str, *, seed: int) -> dict | None:
        """One chat call (system + user message, temperature from config, `seed` passed to the API for
        reproducibility); returns the JSON object in the reply (```json fences, bare JSON, or a Python-literal
        dict as UserRL parses), None if the reply has none (the caller then uses UserRL's canned fallback)."""
        request = {
            "model": self.config.model,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": prompt}],
            "temperature": self.config.temperature,
            "max_tokens": self.config.max_tokens,
            "seed": seed,
        }
        if self.config.json_mode:
            request["response_format"] = {"type": "json_object"}
        answer, cached = self.client.chat_cached(request)
        if cached:
            self._count(cache_hits=1)
        else:
            self._count(requests=1, **_tokens(request, answer))
        return parse_json_object(answer.get("content"))

    def _count(self, **amounts: int) -> None:
        with self._lock:
            for key, amount in amounts.items():
                self._usage[key] += amount


def _tokens(request: dict, answer: dict) -> dict[str, int]:
    reported = answer.get("usage")
    if isinstance(reported, dict) and "prompt_tokens" in reported:
        return {"prompt_tokens": int(reported.get("prompt_tokens") or 0),
                "completion_tokens": int(reported.get("completion_tokens") or 0)}
    prompt_chars = sum(len(m["content"]) for m in request["messages"])
    return {"prompt_tokens": -(-prompt_chars // CHARS_PER_TOKEN),
            "completion_tokens": -(-len(answer.get("content") or "") // CHARS_PER_TOKEN), "estimated_requests": 1}


_SHARED: dict[LLMUserConfig, LLMUser] = {}
_SHARED_LOCK = threading.Lock()


def shared_user(config: LLMUserConfig) -> LLMUser:
    """The process's `LLMUser` for `config`: every env built with one config shares its client and counters."""
    with _SHARED_LOCK:
        if config not in _SHARED:
            _SHARED[config] = LLMUser(config)
        return _SHARED[config]


def total_usage() -> dict:
    """The usage of every shared user so far, summed (a run reports the difference of two readings)."""
    with _SHARED_LOCK:
        users = list(_SHARED.values())
    total = dict.fromkeys(USAGE_KEYS, 0)
    for user in users:
        for key, value in user.usage.items():
            total[key] += value
    return total


def usage_since(before: dict) -> dict:
    """What the shared users used since `before` (a `total_usage()` reading)."""
    return {key: value - before.get(key, 0) for key, value in total_usage().items()}


def cost(usage: dict, price_in: float, price_out: float) -> float:
    """Cost of `usage` at `price_in` / `price_out` per million prompt / completion tokens."""
    return (usage["prompt_tokens"] * price_in + usage["completion_tokens"] * price_out) / 1e6


def backend_user(env: str, backends: tuple[str, ...], user: str, llm: LLMUserConfig | None) -> LLMUser | None:
    """The LLM user an env built with `user=...` talks to (None for the offline user); a backend the env lacks,
    or `user="llm"` without a config, fails when the env is built, before any episode."""
    if user not in BACKENDS or user not in backends:
        raise ValueError(f"{env} has no {user!r} user: choose one of {', '.join(backends)}")
    if user == "offline":
        return None
    if llm is None or not llm.model:
        raise ValueError(f"{env} with the llm user needs a model (--user-model NAME)")
    return shared_user(llm)
