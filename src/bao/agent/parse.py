"""Parse a model's turn into an `Action`. Never raises: what cannot be parsed becomes an `invalid` action.

Accepted forms, after an optional `<think>...</think>` reasoning block:
- a chat-model tool call `<tool_call>{"name": "interact_with_env", "arguments": {...}}</tool_call>`
  (arguments may also be a JSON-encoded string, as OpenAI-style APIs send them; a missing closing tag is
  tolerated when the JSON is complete, since generation often stops at the end of the JSON);
- a bare JSON object of the same shape, or just `{"choice": ..., "content": ...}`;
- UserRL's plain prefixes `[action] ...`, `[search] ...`, `[answer] ...`, `[finish]`.

Every form is turned into UserRL's gym string (`bao.agent.wire.wire_string`) and split by prefix, so the
tool-call path and the plain path behave exactly as UserRL's `InteractTool` + gym pair does. Exactly one call
per turn: two tool calls are invalid. Whether an `action` is a question to the user (`ask`) or an operation
on the environment (`act`) is the environment's call (`action_kind`).
"""

from __future__ import annotations

import json
import re
from typing import Any

from bao.agent.wire import TOOL_NAME, split_prefix, wire_string
from bao.core.types import Action, ActionKind

_THINK = re.compile(r"<think>(.*?)</think>", re.DOTALL)
_TOOL_CALL_OPEN = "<tool_call>"
_TOOL_CALL_CLOSE = "</tool_call>"
_KIND_OF_CHOICE = {
    "search": ActionKind.SEARCH,
    "answer": ActionKind.ANSWER,
    "finish": ActionKind.FINISH,
}


def parse_action(text: str, action_kind: ActionKind = ActionKind.ASK) -> Action:
    """Parse one assistant message. `action_kind` is what an `action` choice means in this environment."""
    try:
        return _parse(text if isinstance(text, str) else str(text), action_kind)
    except Exception as exc:  # the contract is "never raises"; a bug here must not crash a rollout
        return Action(ActionKind.INVALID, raw=str(text), error=f"unparseable output ({type(exc).__name__})")


def _parse(text: str, action_kind: ActionKind) -> Action:
    reasoning, body = _split_reasoning(text)
    if body is None:
        return _invalid(text, reasoning, "the <think> block is not closed")
    call, error = _find_call(body)
    if error:
        return _invalid(text, reasoning, error)
    if call is None:
        gym_string = body
        choice = ""
    else:
        choice, content = call
        gym_string = wire_string(choice, content)
    split = split_prefix(gym_string)
    if split is None:
        if call is not None:
            error = f"unknown choice {choice!r}: the choice must be action, search or answer"
        else:
            error = "no tool call found: call interact_with_env with a choice of action, search or answer"
        return _invalid(text, reasoning, error, choice=choice)
    prefix_choice, rest = split
    kind = action_kind if prefix_choice == "action" else _KIND_OF_CHOICE[prefix_choice]
    if prefix_choice == "finish":
        content = ""
    elif call is not None and call[0] == prefix_choice:
        content = call[1]
    else:
        content = rest.strip()
    return Action(kind, content, prefix_choice, reasoning, raw=text, wire=gym_string)


def _invalid(text: str, reasoning: str, error: str, choice: str = "") -> Action:
    return Action(ActionKind.INVALID, content="", choice=choice, reasoning=reasoning, raw=text, error=error)


def _split_reasoning(text: str) -> tuple[str, str | None]:
    """Return (reasoning, rest). rest is None when a `<think>` is opened and never closed."""
    stripped = text.lstrip()
    if not stripped.startswith("<think>"):
        return "", text
    match = _THINK.match(stripped)
    if match is None:
        return stripped[len("<think>"):].strip(), None
    return match.group(1).strip(), stripped[match.end():]


def _find_call(body: str) -> tuple[tuple[str, str] | None, str]:
    """Find the single tool call in `body`: ((choice, content) or None if there is no JSON call, error)."""
    stripped = body.strip()
    if _TOOL_CALL_OPEN in stripped:
        inner = stripped.split(_TOOL_CALL_OPEN, 1)[1]
        obj, end, error = _decode_prefix(inner)
        if error:
            return None, f"tool call is not valid JSON ({error})"
        rest = inner[end:].strip()
        if rest.startswith(_TOOL_CALL_CLOSE):
            rest = rest[len(_TOOL_CALL_CLOSE):]
        if _TOOL_CALL_OPEN in rest:
            return None, "more than one tool call: make exactly one call per turn"
        return _call_from_object(obj)
    if stripped.startswith("{"):
        obj, error = _decode_object(stripped)
        if error:
            return None, f"tool call is not valid JSON ({error})"
        return _call_from_object(obj)
    return None, ""


def _decode_prefix(text: str) -> tuple[Any, int, str]:
    """Decode the JSON object at the start of `text` (after whitespace); returns (object, end, error)."""
    start = len(text) - len(text.lstrip())
    if not text[start:].startswith("{"):
        return None, 0, "no JSON object"
    try:
        obj, end = json.JSONDecoder().raw_decode(text, start)
    except (json.JSONDecodeError, RecursionError) as exc:
        return None, 0, getattr(exc, "msg", "too deeply nested")
    return obj, end, ""


def _decode_object(text: str) -> tuple[Any, str]:
    obj, end, error = _decode_prefix(text)
    if not error and text[end:].strip():
        error = "extra text after the JSON object"
    return obj, error


def _call_from_object(obj: Any) -> tuple[tuple[str, str] | None, str]:
    if not isinstance(obj, dict):
        return None, "the tool call must be a JSON object"
    if "name" in obj or "arguments" in obj:
        if obj.get("name") != TOOL_NAME:
            return None, f"unknown tool {obj.get('name')!r}: the only tool is {TOOL_NAME}"
        args = obj.get("arguments")
        if isinstance(args, str):
            args, error = _decode_object(args)
            if error:
                return None, f"tool arguments are not valid JSON ({error})"
        obj = args
    if not isinstance(obj, dict) or "choice" not in obj:
        return None, "tool arguments must hold `choice` and `content`"
    choice, content = obj.get("choice"), obj.get("content", "")
    if not isinstance(choice, str):
        return None, "`choice` must be a string"
    if isinstance(content, bool) or not isinstance(content, (str, int, float)):
        return None, "`content` must be a string"
    return (choice, content if isinstance(content, str) else json.dumps(content)), ""
