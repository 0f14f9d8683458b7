"""Render agent turns in the format the parser reads back: reasoning, then one tool call."""

from __future__ import annotations

import json

from bao.agent.wire import TOOL_NAME


def render_tool_call(choice: str, content: str, reasoning: str = "") -> str:
    """The assistant message for one turn: an optional `<think>` block, then a `<tool_call>` in ChatML style.

    `bao.agent.parse.parse_action` reads it back to the same (choice, content, reasoning); reasoning is
    stripped of surrounding whitespace and must not contain `</think>`.
    """
    if "</think>" in reasoning:
        raise ValueError("reasoning must not contain '</think>'")
    call = json.dumps({"name": TOOL_NAME, "arguments": {"choice": choice, "content": content}}, ensure_ascii=False)
    head = f"<think>\n{reasoning.strip()}\n</think>\n" if reasoning.strip() else ""
    return f"{head}<tool_call>\n{call}\n</tool_call>"
