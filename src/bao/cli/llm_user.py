"""The `--user` flags of `bao eval` and `bao play`: which simulated user answers the agent, and for the LLM user
(UserRL's mode, `bao.users.llm`) the model, endpoint, key variable, cache and prices.

Every check runs before an env is built or a model loaded: an env without an LLM user, or `--user llm` without
a model, is one line and exit status 2. The key is named, never read here: only the chat client reads it.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from bao.cli.args import non_negative_float
from bao.cli.results import UsageError
from bao.users.llm import BACKENDS, LLMUserConfig

MODEL_ENV = "USER_MODEL_NAME"  # UserRL's eval reads the user model from this variable


def add_user_arguments(parser: argparse.ArgumentParser, prices: bool = False) -> None:
    group = parser.add_argument_group("simulated user")
    group.add_argument("--user", choices=BACKENDS, default="offline",
                       help="offline (default: knowledge sheets, no network) or llm (an LLM answers and judges, "
                       "as in UserRL; see `bao envs` for the envs that have it)")
    group.add_argument("--user-model", default=None,
                       help=f"llm user: the model name the server knows (default ${MODEL_ENV})")
    group.add_argument("--user-base-url", default=None,
                       help="llm user: endpoint such as http://127.0.0.1:8000/v1 (default $OPENAI_BASE_URL, "
                       "else OpenAI)")
    group.add_argument("--user-api-key-env", default="OPENAI_API_KEY",
                       help="llm user: name of the environment variable holding the key (default %(default)s)")
    group.add_argument("--user-cache", default=None,
                       help="llm user: SQLite file caching its replies (a rerun sends no request)")
    group.add_argument("--user-json-mode", action="store_true",
                       help="llm user: ask the server for JSON output (response_format json_object), for models "
                       "that otherwise answer in prose")
    if prices:
        group.add_argument("--user-price-in", type=non_negative_float, default=None,
                           help="llm user: USD per 1M prompt tokens, to record the run's cost in metrics.json")
        group.add_argument("--user-price-out", type=non_negative_float, default=None,
                           help="llm user: USD per 1M completion tokens")


def user_env_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The env options that select the user (`{}` for the offline one); fails on flags that cannot apply."""
    from bao.envs.registry import spec

    llm_flags = [flag for flag, value in (("--user-model", args.user_model), ("--user-base-url", args.user_base_url),
                                          ("--user-cache", args.user_cache),
                                          ("--user-json-mode", args.user_json_mode or None),
                                          ("--user-price-in", getattr(args, "user_price_in", None)),
                                          ("--user-price-out", getattr(args, "user_price_out", None)))
                 if value is not None]
    if args.user == "offline":
        if llm_flags:
            raise UsageError(f"{llm_flags[0]} configures the LLM user: add --user llm")
        return {}
    backends = spec(args.env).backends
    if args.user not in backends:
        raise UsageError(f"{args.env} has no {args.user} user (its user backends: {', '.join(backends)})")
    model = args.user_model or os.environ.get(MODEL_ENV)
    if not model:
        raise UsageError(f"--user llm needs --user-model NAME (the model name the server knows) or ${MODEL_ENV}")
    config = LLMUserConfig(model=model, base_url=args.user_base_url or os.environ.get("OPENAI_BASE_URL") or None,
                           api_key_env=args.user_api_key_env, cache=args.user_cache, json_mode=args.user_json_mode)
    return {"user": "llm", "llm": config}


def user_prices(args: argparse.Namespace) -> tuple[float, float] | None:
    """(USD per 1M prompt tokens, per 1M completion tokens), a missing one as 0; None when neither is given."""
    price_in, price_out = getattr(args, "user_price_in", None), getattr(args, "user_price_out", None)
    if price_in is None and price_out is None:
        return None
    return price_in or 0.0, price_out or 0.0


def usage_line(usage: dict[str, Any]) -> str:
    """One line on what the LLM user cost: requests, cache hits, tokens (flagged when estimated), cost."""
    line = (f"LLM user: {usage['requests']} requests, {usage['cache_hits']} cache hits, "
            f"{usage['prompt_tokens']} prompt + {usage['completion_tokens']} completion tokens")
    if usage.get("estimated_requests"):
        line += f" ({usage['estimated_requests']} requests estimated from text length)"
    if "cost" in usage:
        line += f", ${usage['cost']:.4f}"
    return line
