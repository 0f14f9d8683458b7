import pytest

from bao.agent.behaviors import Behavior, render_behavior
from bao.agent.parse import parse_action
from bao.policies.teachers.base import BROKEN_CHARS, LOOP_FORMS, broken_text

BEHAVIOR = Behavior(
    known=("test case f(1, 2)", "yes: europe, is_living"),
    alive=("every candidate rule",),
    ruled_out=("answer 10 (wrong)",),
    plan="ask for f(3, 4)",
    budget=12,
)


class _Draw:
    """An RNG stand-in that draws the given loop form and the list line of the given row."""

    def __init__(self, form: str, row: int = 0) -> None:
        self.form, self.row = form, row

    def choice(self, options):
        if options == LOOP_FORMS:
            return self.form
        return next(option for option in options if option[0] == self.row)


@pytest.mark.parametrize(("form", "row", "start", "loop"), [
    ("item", 0, "Known: test case f(1, 2); yes: europe, is_living", "; yes: europe, is_living"),
    ("group", 0, "Known: test case f(1, 2); yes: europe, is_living", ", is_living"),
    ("item", 1, "Alive: every candidate rule", "; every candidate rule"),
    ("count", 2, "Ruled out: answer 10 (wrong)", "; answer 11 (wrong); answer 12 (wrong); answer 13 (wrong)"),
    ("count", 0, "Known: test case f(1, 2); yes", "; yes: europe, is_living; yes: europe, is_living"),  # no number
    ("group", 2, "Ruled out: answer 10 (wrong)", "; answer 10 (wrong); answer 10 (wrong)"),  # no group
])
def test_a_list_line_loops_until_the_turn_is_cut_without_closing_think(form, row, start, loop):
    text = broken_text(BEHAVIOR, _Draw(form, row))
    head = "\n".join(["<think>", *render_behavior(BEHAVIOR).split("\n")[:row]])
    assert text.startswith(f"{head}\n{start}" if row else f"<think>\n{start}")
    assert loop in text and len(text) == BROKEN_CHARS
    assert "Plan:" not in text and "</think>" not in text
    assert parse_action(text).error == "the <think> block is not closed"


@pytest.mark.parametrize("behavior", [BEHAVIOR, Behavior((), (), (), "ask", 16)])
def test_the_close_form_writes_the_whole_reasoning_then_closes_it_again_and_again(behavior):
    draw = _Draw("close") if behavior.known else _Draw("item")  # with empty lists, every form closes
    text = broken_text(behavior, draw)
    assert text.startswith(f"<think>\n{render_behavior(behavior)}\n</think>\n</think>\n</think>")
    assert len(text) == BROKEN_CHARS and "<tool_call>" not in text
    assert not parse_action(text).valid
