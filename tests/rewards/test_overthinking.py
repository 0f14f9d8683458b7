"""Loop, restatement and length detectors on reasoning text."""

from __future__ import annotations

from bao.rewards.overthinking import loop_share, restated_share, word_count

PLAN = "Known: the user wants a quiet hotel. Alive: budget unknown. Plan: ask about the budget (budget 3 left)"


def test_forward_prose_has_no_loop_and_a_repeated_item_does():
    assert loop_share(PLAN) == 0.0
    looping = "Known: " + " ".join(f"{i}. the user wants a quiet hotel;" for i in range(1, 12))
    assert loop_share(looping) > 0.5
    assert loop_share("too short") == 0.0


def test_restating_the_previous_turn_is_measured_by_ngram_overlap():
    assert restated_share(PLAN, PLAN) == 1.0
    moved = PLAN.replace("budget unknown", "budget 200 euros") + " then confirm the dates"
    assert 0.3 < restated_share(moved, PLAN) < 0.9
    assert restated_share(PLAN, "") == 0.0


def test_word_count():
    assert word_count(" a  b\nc ") == 3
