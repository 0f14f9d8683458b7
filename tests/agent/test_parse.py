import json

from hypothesis import given, settings
from hypothesis import strategies as st

from bao.agent.parse import parse_action
from bao.agent.render import render_tool_call
from bao.core.types import ActionKind


def test_plain_prefixes_follow_userrl_rules():
    assert parse_action("[answer]225").content == "225"
    assert parse_action("  [search] test \n").kind is ActionKind.SEARCH
    assert parse_action("[finish] [answer] 5").kind is ActionKind.FINISH
    assert parse_action("[action] 1 2 3 4 [finish]").kind is ActionKind.ASK
    for text in ("[ANSWER] 5", "[Search] test", "I think [answer] 5", "[actions] 1 2 3 4", ""):
        assert parse_action(text).kind is ActionKind.INVALID, text


def test_action_choice_takes_the_env_meaning():
    assert parse_action("[action] hi", ActionKind.ACT).kind is ActionKind.ACT
    assert parse_action("[action] hi").kind is ActionKind.ASK


def test_tool_call_with_reasoning_keeps_both():
    text = ('<think>\nthe sum\n</think>\n<tool_call>\n'
            '{"name": "interact_with_env", "arguments": {"choice": "answer", "content": "7"}}\n</tool_call>')
    action = parse_action(text)
    assert (action.kind, action.content, action.reasoning, action.wire) == (
        ActionKind.ANSWER, "7", "the sum", "[answer] 7")


def test_openai_style_string_arguments_and_missing_close_tag_are_accepted():
    args = json.dumps({"choice": "search", "content": "test"})
    text = "<tool_call>" + json.dumps({"name": "interact_with_env", "arguments": args})
    assert parse_action(text).kind is ActionKind.SEARCH


def test_bare_json_call_is_accepted():
    assert parse_action('{"choice": "answer", "content": 12}').content == "12"


def test_invalid_outputs_say_why():
    cases = {
        "<think>never closed": "not closed",
        '<tool_call>{"name": "interact_with_env", "arguments": {"choice": "answer"': "not valid JSON",
        '<tool_call>{"name": "other", "arguments": {}}</tool_call>': "unknown tool",
        '<tool_call>{"name": "interact_with_env", "arguments": {"choice": "answer", "content": "1"}}</tool_call>'
        '<tool_call>{"name": "interact_with_env", "arguments": {"choice": "answer", "content": "2"}}</tool_call>':
            "more than one",
        "just words": "no tool call",
        '<tool_call>{"name": "interact_with_env", "arguments": {"choice": "guess", "content": "2"}}</tool_call>':
            "unknown choice 'guess'",
    }
    for text, reason in cases.items():
        action = parse_action(text)
        assert action.kind is ActionKind.INVALID and reason in action.error, (text, action.error)


def test_userrl_tool_layer_quirks_are_reproduced():
    assert parse_action(render_tool_call("", "[answer] 11")).wire == "[answer] 11"
    assert parse_action(render_tool_call("action", "[answer] 5")).wire == "[action] [answer] 5"
    assert parse_action(render_tool_call("finish", "whatever")).kind is ActionKind.FINISH


@settings(max_examples=400, deadline=None)
@given(st.text())
def test_parser_never_raises_on_random_text(text):
    action = parse_action(text)
    assert action.valid or action.error


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="{}[]\":,<>/ abcdeinrtuw_0123456789\\\n"), st.integers(0, 60))
def test_parser_never_raises_on_braces_and_truncated_json(noise, cut):
    call = render_tool_call("answer", noise)
    for text in (noise, call[: cut + 10], "<tool_call>" + noise, "{" * cut + noise,
                 "<think>" + noise + "</think>" + noise):
        action = parse_action(text)
        assert action.valid or action.error


_reasoning = st.text().filter(lambda s: "</think>" not in s and "<think>" not in s)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(["action", "search", "answer"]), st.text(), _reasoning)
def test_parser_round_trips_what_the_renderer_writes(choice, content, reasoning):
    action = parse_action(render_tool_call(choice, content, reasoning))
    assert action.valid, action.error
    assert action.choice == choice
    assert action.content == content
    assert action.reasoning == reasoning.strip()
