from __future__ import annotations

import json

from bao.agent.parse import parse_action
from bao.agent.prompt import chat_messages, observation_message, render_chatml, tools_block
from bao.agent.render import render_tool_call
from bao.agent.wire import TOOL_NAME, TOOL_SCHEMA
from bao.core.types import ActionKind

CONVERSATION = [
    {"role": "system", "content": "You play FunctionGym.\n"},
    {"role": "user", "content": "Begin."},
    {"role": "assistant", "content": render_tool_call("search", "test", "I need the test case.")},
    {"role": "tool", "content": "Test case: [1, 2, 3, 4]"},
]


def test_tool_schema_is_rendered_into_the_system_prompt_as_json_inside_tools_tags():
    system = chat_messages(CONVERSATION)[0]
    assert system["role"] == "system"
    assert system["content"].startswith("You play FunctionGym.\n\n# Tools")
    inside = system["content"].split("<tools>\n", 1)[1].split("\n</tools>", 1)[0]
    assert json.loads(inside) == TOOL_SCHEMA


def test_the_call_format_shown_in_the_prompt_is_one_the_parser_accepts():
    example = tools_block().split("<tool_call>\n", 1)[1].split("\n</tool_call>", 1)[0]
    call = json.loads(example)
    assert call["name"] == TOOL_NAME
    payload = json.dumps({"name": TOOL_NAME, "arguments": {"choice": "answer", "content": "7"}})
    filled = f"<tool_call>\n{payload}\n</tool_call>"
    assert parse_action(filled).kind is ActionKind.ANSWER


def test_observations_go_back_as_user_turns_wrapped_in_tool_response():
    chat = chat_messages(CONVERSATION)
    assert [m["role"] for m in chat] == ["system", "user", "assistant", "user"]
    assert chat[3] == observation_message("Test case: [1, 2, 3, 4]")
    assert chat[3]["content"] == "<tool_response>\nTest case: [1, 2, 3, 4]\n</tool_response>"
    assert chat[2]["content"] == CONVERSATION[2]["content"]


def test_a_conversation_without_system_prompt_gets_one_with_the_tools():
    chat = chat_messages([{"role": "user", "content": "hi"}])
    assert chat[0] == {"role": "system", "content": tools_block()}
    assert chat[1] == {"role": "user", "content": "hi"}


def test_chatml_rendering_uses_im_start_and_im_end_and_ends_with_the_assistant_header():
    text = render_chatml([{"role": "system", "content": "S"}, {"role": "user", "content": "U"}], True)
    assert text == "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n"
