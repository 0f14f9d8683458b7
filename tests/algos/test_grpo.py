"""`grpo`: the episode's return, normalised within its group, on every token (arithmetic in the comments)."""

from __future__ import annotations

import pytest

from bao.algos import estimate
from tests.algos.helpers import episode

EPS = 1e-6


def test_solved_against_failed_early_stop():
    # returns: 0 + 1 = 1 and 0; mean 0.5, unbiased std sqrt(((0.5)^2 + (0.5)^2) / 1) = 0.70710678
    # A = +-0.5 / (0.70710678 + 1e-6) = +-0.70710578 on every span
    out = estimate("grpo", [episode("g", [0, 1]), episode("g", [0])])
    a = 0.5 / (0.5**0.5 + EPS)
    assert out.turns == [[pytest.approx(a, abs=1e-12)] * 2, [pytest.approx(-a, abs=1e-12)]]
    assert out.scores == [1.0, 0.0]


def test_effort_enters_the_return():
    # w = 0.1 charged on the two user turns of the first episode, one of the second:
    # returns 1 - 0.2 = 0.8 and 1 - 0.1 = 0.9; mean 0.85, std sqrt(2 * 0.05^2) = 0.0707107
    # the cheaper episode gets +0.05 / 0.0707117 = +0.70710 despite the same task reward
    out = estimate("grpo", [episode("g", [0, 1], effort=[-0.1, -0.1]), episode("g", [1], effort=[-0.1])])
    assert out.scores == pytest.approx([0.8, 0.9])
    assert out.turns[1] == [pytest.approx(0.05 / (0.05 * 2**0.5 + EPS))]
    assert out.turns[0] == [pytest.approx(-0.05 / (0.05 * 2**0.5 + EPS))] * 2


def test_equal_scores_and_a_group_of_one_get_zero():
    # group a: two returns of 1 -> mean 1, std 0 -> exactly 0; group b: one episode -> no baseline -> 0
    out = estimate("grpo", [episode("a", [0, 1]), episode("a", [1]), episode("b", [1])])
    assert out.turns == [[0.0, 0.0], [0.0], [0.0]]


def test_without_std_normalisation_the_advantage_is_centred_only():
    # returns 1, 0, 0, 0: mean 0.25 -> 0.75, -0.25, -0.25, -0.25
    eps = [episode("g", [1]), episode("g", [0]), episode("g", [0]), episode("g", [0])]
    out = estimate("grpo", eps, norm_std=False)
    assert [t[0] for t in out.turns] == [0.75, -0.25, -0.25, -0.25]
