import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bao.agent.behaviors import (
    EMPTY,
    Behavior,
    BehaviorError,
    parse_behavior,
    render_behavior,
    try_parse_behavior,
)
from bao.agent.parse import parse_action
from bao.agent.render import render_tool_call

_text = st.text(st.characters(blacklist_characters=";\n\r", blacklist_categories=("Cs",)), min_size=1, max_size=30)
items = _text.map(str.strip).filter(lambda s: s and s != EMPTY and "</think>" not in s)
plans = (
    st.text(st.characters(blacklist_characters="\n\r", blacklist_categories=("Cs",)), min_size=1, max_size=60)
    .map(str.strip)
    .filter(lambda s: s and "</think>" not in s
            and try_parse_behavior(f"Known: a\nAlive: a\nRuled out: a\nPlan: {s}") is None)
)
behaviors = st.builds(
    Behavior,
    known=st.lists(items, max_size=5).map(tuple),
    alive=st.lists(items, max_size=5).map(tuple),
    ruled_out=st.lists(items, max_size=5).map(tuple),
    plan=plans,
    budget=st.integers(0, 99),
)


@settings(deadline=None)  # the machine is shared: wall-clock deadlines would make this flaky
@given(behaviors)
def test_render_then_parse_gives_back_the_behavior(behavior):
    assert parse_behavior(render_behavior(behavior)) == behavior


@settings(deadline=None)
@given(behaviors)
def test_behavior_survives_the_tool_call_round_trip(behavior):
    action = parse_action(render_tool_call("action", "Is it red?", render_behavior(behavior)))
    assert action.valid and parse_behavior(action.reasoning) == behavior


def test_rendered_text_follows_the_documented_shape():
    text = render_behavior(Behavior(("is_animal: no", "europe: yes"), ("12 candidates",), (), "ask is_red", 7))
    assert text == ("Known: is_animal: no; europe: yes\nAlive: 12 candidates\nRuled out: nothing yet\n"
                    "Plan: ask is_red (budget 7 left)")


@pytest.mark.parametrize("bad", [
    Behavior(("a;b",), (), (), "plan", 1),
    Behavior((" padded",), (), (), "plan", 1),
    Behavior((EMPTY,), (), (), "plan", 1),
    Behavior((), (), (), "two\nlines", 1),
    Behavior((), (), (), "sneaky (budget 3 left)", 1),
    Behavior((), (), (), "plan", -1),
    Behavior(("x</think>",), (), (), "plan", 1),
])
def test_rendering_refuses_what_could_not_be_parsed_back(bad):
    with pytest.raises(BehaviorError):
        render_behavior(bad)


@pytest.mark.parametrize("text", [
    "I think it is a cat.",
    "Known: a\nAlive: b\nPlan: c (budget 2 left)",
    "Known: a\nAlive: b\nRuled out: c\nPlan: no budget",
    "Alive: a\nKnown: b\nRuled out: c\nPlan: d (budget 1 left)",
])
def test_free_text_is_not_a_behavior(text):
    assert try_parse_behavior(text) is None
