"""`bao-paper`: the authors' shaping and Sum-as-sum, hand-computed (BAO_RECIPE.md 4.1, 7.1, 7.6, 7.8)."""

from __future__ import annotations

import pytest

from bao.algos import estimate
from tests.algos.helpers import episode

EPS = 1e-6


def test_success_is_untouched_and_sum_is_the_sum():
    # [action 0, action 0, answer 1]: BAO Sum = round(1 / 1.0, 4) = 1.0 (UserRL would give 0.3333)
    # R2G credits [0.64, 0.8, 1.0]; singleton A_hat = 1 / (1 + 1e-6) -> tokens c_k * A_hat * 3 / 2.44
    out = estimate("bao-paper", [episode("u", [0, 0, 1])])
    assert out.scores == [1.0]
    assert out.rewards == [[0, 0, 1]]
    assert out.turns[0] == pytest.approx([c / (1 + EPS) * 3 / 2.44 for c in (0.64, 0.8, 1.0)])


def test_failed_early_stop_is_spread_over_turns_after_the_first():
    # [action 0, answer 0]: T' = 2, sum 0 -> P = 0.05 * (15 - 2) + 0.2 = 0.85, delta = 0.85 / 3 = 0.283333
    # shaped [0, -0.283333]; Sum score round(-0.283333, 4) = -0.2833
    # R2G credits [0.8 * -0.283333, -0.283333]; singleton A_hat = -0.2833 / (1 + 1e-6) (7.8: not 0)
    out = estimate("bao-paper", [episode("u", [0, 0])])
    delta = 0.85 / 3
    assert out.rewards == [[0, pytest.approx(-delta)]]
    assert out.scores == [-0.2833]
    a_hat = -0.2833 / (1 + EPS)
    credits = [-0.8 * delta, -delta]
    assert out.turns[0] == pytest.approx([c * a_hat * 2 / sum(credits) for c in credits])


def test_one_turn_failure_gets_minus_half_and_repeated_answers_are_set_to_minus_lambda_is():
    # [answer 0] -> [-0.5] whatever lambda_OT (7.6)
    # [answer 0, answer 0, answer 0] failed: IS sets turns 1, 2 to -0.005; OT adds -delta, delta = (0.05*12+0.2)/4 = 0.2
    # -> [0, -0.205, -0.205]
    out = estimate("bao-paper", [episode("a", [0], ["answer"]), episode("b", [0, 0, 0], ["answer"] * 3)])
    assert out.rewards[0] == [-0.5]
    assert out.rewards[1] == pytest.approx([0, -0.205, -0.205])


def test_a_group_compares_shaped_sums():
    # success [action 0, answer 1] -> S = 1.0; failure [action 0, action 0] -> shaped [0, -0.283333] -> S = -0.2833
    # mean 0.35835, std sqrt(2 * 0.64165^2) = 0.907430 -> A_hat = +-0.707106
    out = estimate("bao-paper", [episode("g", [0, 1]), episode("g", [0, 0], ["action", "action"])], credit="equalized")
    a = 0.64165 / (0.64165 * 2**0.5 + EPS)
    assert out.turns == [pytest.approx([a, a]), pytest.approx([-a, -a])]


def test_effort_is_added_after_the_failure_gates():
    # w = 0.1 on the answer turn of a success: gates read the env rewards (sum 1 > 0: no penalty), S = 1 - 0.1
    out = estimate("bao-paper", [episode("u", [0, 1], effort=[0.0, -0.1])])
    assert out.rewards == [[0, pytest.approx(0.9)]]
    assert out.scores == [0.9]
