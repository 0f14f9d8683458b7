"""`userrl`: UserRL's multi-turn GRPO, hand-computed (BAO_RECIPE.md 4.2-4.3); the recorded cases are in test_cases."""

from __future__ import annotations

import pytest

from bao.algos import estimate
from tests.algos.helpers import episode

EPS = 1e-6


def test_sum_score_is_the_mean_turn_reward():
    # [action 0, action 0, answer 1]: UserRL "Sum" = round(1 / 3, 4) = 0.3333 (the mean, 7.1)
    # a group of one: verl's mean 0 / std 1 -> A_hat = 0.3333 / (1 + 1e-6); Equalized credits -> every token A_hat
    out = estimate("userrl", [episode("u", [0, 0, 1])])
    assert out.scores == [0.3333]
    assert out.turns == [[pytest.approx(0.3333 / (1 + EPS))] * 3]


def test_r2g_credit_weights_turns_by_their_reward_to_go():
    # credits gamma 0.8: [0.64, 0.8, 1.0]; one token each: Sigma = 2.44, N = 3
    # A_hat = 0.3333 / (1 + 1e-6); turn k gets credit_k * A_hat * 3 / 2.44 -> mean over tokens = A_hat
    out = estimate("userrl", [episode("u", [0, 0, 1])], credit="r2g")
    a_hat = 0.3333 / (1 + EPS)
    assert out.credits == [pytest.approx([0.64, 0.8, 1.0])]
    assert out.turns[0] == pytest.approx([c * a_hat * 3 / 2.44 for c in (0.64, 0.8, 1.0)])
    assert sum(out.turns[0]) / 3 == pytest.approx(a_hat)


def test_r2g_credits_of_a_failure_sum_to_zero_and_erase_the_row():
    # [0, 0] failed: R2G credits [0, 0], Sigma = 0 -> the row gets 0 although it enters the group (7.4)
    # scores (R2G): 0.8^2 * 1 = 0.64 and 0; mean 0.32, std 0.45255 -> A_hat = +-0.70710
    out = estimate("userrl", [episode("g", [0, 0, 1]), episode("g", [0, 0])], credit="r2g", score="r2g")
    assert out.scores == pytest.approx([0.64, 0.0])
    assert out.turns[1] == [0.0, 0.0]
    assert sum(out.turns[0]) / 3 == pytest.approx(0.32 / (0.32 * 2**0.5 + EPS))


def test_em_credit_and_token_counts():
    # EM: r = 0 -> 0.5, r = 1 -> 1.0; spans of 2 and 4 tokens: Sigma = 0.5 * 2 + 1.0 * 4 = 5, N = 6
    # singleton A_hat = 0.5 / (1 + 1e-6) (Sum = round(1 / 2, 4)); turn 0: 0.5 * A_hat * 6 / 5, turn 1: 1.0 * ...
    out = estimate("userrl", [episode("u", [0, 1], tokens=[2, 4])], credit="em")
    a_hat = 0.5 / (1 + EPS)
    assert out.credits == [[0.5, 1.0]]
    assert out.turns[0] == pytest.approx([0.5 * a_hat * 6 / 5, 1.0 * a_hat * 6 / 5])


def test_a_group_of_equal_scores_gets_exactly_zero():
    # 8 identical failures: the reference's float32 mean/std leave noise (7.3); bao gives 0 exactly
    out = estimate("userrl", [episode("g", [0, 0.1, 0]) for _ in range(8)])
    assert all(v == 0.0 for row in out.turns for v in row)


def test_bad_settings_fail_with_the_setting_named():
    with pytest.raises(ValueError, match="credit"):
        estimate("userrl", [], credit="monte-carlo")
    with pytest.raises(ValueError, match="gamma"):
        estimate("userrl", [], gamma=0)
    with pytest.raises(ValueError, match="no setting lambda_ot"):
        estimate("userrl", [], lambda_ot=0.1)
