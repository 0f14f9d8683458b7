"""`bao`: reward-to-go on every shaping component against the group's mean return, hand-computed."""

from __future__ import annotations

import pytest

from bao.algos import estimate
from tests.algos.helpers import episode

EPS = 1e-6
S2 = 2**0.5


def test_a_question_is_charged_to_itself_and_the_turns_before_it_not_after():
    # w = 0.1 on every user turn (intention: questions and answers)
    # A: ask (-0.1), ask (-0.1), answer (+1 - 0.1) -> x = [-0.1, -0.1, 0.9], G = [0.7, 0.8, 0.9], return 0.7
    # B: answer wrong (0 - 0.1)                     -> x = [-0.1],            G = [-0.1],           return -0.1
    # mean 0.3, std sqrt(2 * 0.4^2) = 0.565685 -> A = (G - 0.3) / 0.565686
    a = episode("g", [0, 0, 1], effort=[-0.1, -0.1, -0.1])
    b = episode("g", [0], effort=[-0.1])
    out = estimate("bao", [a, b])
    std = 0.4 * S2 + EPS
    assert out.turns[0] == pytest.approx([0.4 / std, 0.5 / std, 0.6 / std])
    assert out.turns[1] == pytest.approx([-0.4 / std])
    assert out.scores == pytest.approx([0.7, -0.1])


def test_a_redundant_question_costs_its_turn_more_than_a_useful_one():
    # same as above but A's second question is redundant (-0.05): x = [-0.1, -0.15, 0.9], G = [0.65, 0.75, 0.9]
    # B answers at once: G = [0.9]. mean 0.775, std sqrt(2 * 0.125^2) = 0.176777
    a = episode("g", [0, 0, 1], effort=[-0.1] * 3, redundant=[0, -0.05, 0])
    b = episode("g", [1], effort=[-0.1])
    out = estimate("bao", [a, b])
    std = 0.125 * S2 + EPS
    assert out.turns[0] == pytest.approx([-0.125 / std, -0.025 / std, 0.125 / std])
    assert out.turns[1] == pytest.approx([0.125 / std])


def test_failed_early_stop_with_the_recipes_penalty():
    # early_stop component as bao.rewards writes it for T' = 2 (delta 0.283333 on turn 1)
    # A: [0, -0.283333] -> G = [-0.283333, -0.283333]; B: solved [0, 1] -> G = [1, 1]
    # mean 0.358333, std 0.907453 -> A gets -0.641667 / 0.907454 on both turns
    delta = 0.85 / 3
    a = episode("g", [0, 0], early_stop=[0.0, -delta])
    b = episode("g", [0, 1])
    out = estimate("bao", [a, b])
    half = (1 + delta) / 2
    std = half * S2 + EPS
    assert out.turns[0] == pytest.approx([-half / std] * 2)
    assert out.turns[1] == pytest.approx([half / std] * 2)


def test_equal_returns_and_a_group_of_one_get_zero_even_with_turn_level_differences():
    # both return 0.9 although their reward-to-go differs by turn -> the group compares nothing -> 0
    a = episode("g", [0, 1], effort=[-0.1, 0.0])
    b = episode("g", [1], effort=[-0.1])
    single = episode("s", [0, 1], effort=[-0.1, 0.0])
    out = estimate("bao", [a, b, single])
    assert out.turns == [[0.0, 0.0], [0.0], [0.0, 0.0]]


def test_discount_and_no_std():
    # gamma 0.5, no std: A: [0, 1] -> G = [0.5, 1]; B: [0] -> G = [0]; mean of returns 0.25
    out = estimate("bao", [episode("g", [0, 1]), episode("g", [0])], gamma=0.5, norm_std=False)
    assert out.turns == [[0.25, 0.75], [-0.25]]


def test_spans_beyond_the_turns_get_zero_and_truncated_turns_still_count():
    # A has 3 turns but only 2 spans recorded; its return still includes the third turn's reward
    a = episode("g", [0, 0, 1], tokens=[3, 4])
    b = episode("g", [0], tokens=[2, 5])
    out = estimate("bao", [a, b], norm_std=False)
    assert out.turns == [[0.5, 0.5], [-0.5, 0.0]]
