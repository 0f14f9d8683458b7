"""The authors' shaping (BAO_RECIPE.md 4.1 and the examples of 7.6)."""

from __future__ import annotations

import pytest

from bao.rewards import paper_shaping
from bao.rewards.paper import early_stop_penalty


def test_success_and_partial_credit_are_never_penalised():
    assert paper_shaping([0, 0, 1.0], ["action", "answer", "answer"], 0.05, 0.005) == [0, 0, 1.0]
    assert paper_shaping([0.5], ["answer"], 0.05, 0.005) == [0.5]


def test_rewards_that_cancel_count_as_failed_for_both_penalties():
    # sum 0 exactly: IS on turns 1, 2 (-0.005); OT delta = (0.05 * 12 + 0.2) / 4 = 0.2 on turns 1, 2
    out = paper_shaping([0.5, 0, -0.5], ["answer"] * 3, 0.05, 0.005)
    assert out == pytest.approx([0.5, -0.205, -0.705])


def test_a_negative_sum_gets_the_repeated_answer_penalty_only():
    out = paper_shaping([0, -0.5, 0, 0], ["answer", "answer", "action", "answer"], 0.05, 0.005)
    assert out == pytest.approx([0, -0.505, 0, 0])


def test_one_turn_is_minus_half_and_the_horizon_is_fifteen():
    assert paper_shaping([0], ["action"], 0.01, 0) == [-0.5]
    assert paper_shaping([0] * 15, ["action"] * 15, 0.05, 0.005) == [0] * 15
    fourteen = paper_shaping([0] * 14, ["action"] * 14, 0.05, 0)
    assert fourteen[0] == 0 and fourteen[1:] == pytest.approx([-0.25 / 15] * 13)


def test_zero_coefficients_leave_the_rewards_and_inputs_alone():
    rewards = [0, 0, 0]
    assert paper_shaping(rewards, ["answer"] * 3, 0, 0) == [0, 0, 0]
    assert rewards == [0, 0, 0]


def test_early_stop_penalty_totals_p_times_t_minus_one_over_t_plus_one():
    # T' = 6: P = 0.05 * 9 + 0.2 = 0.65, delta = 0.65 / 7 on 5 turns (7.2: score -0.4642857)
    assert sum(early_stop_penalty(6, 0.05)) == pytest.approx(-0.65 * 5 / 7)
    assert early_stop_penalty(0, 0.05) == []
