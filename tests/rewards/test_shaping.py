"""Per-turn reward components and their flags on recorded turns."""

from __future__ import annotations

import pytest

from bao.core.types import Trajectory, Turn
from bao.rewards import COMPONENTS, RewardConfig, turn_flags, turn_rewards

LOOP = " ".join(["1. the user wants it;"] * 12)


def _turn(i, kind, reward=0.0, user=True, reasoning="", **info):
    return Turn(index=i, output="", kind=kind, content="", reasoning=reasoning, observation="", reward=reward,
                done=False, user_involved=user, info=info)


def _traj(*turns, success=False):
    return Trajectory(env="x", task_id="t", seed=0, policy="p", messages=[], turns=list(turns), success=success)


def test_with_no_coefficient_the_reward_is_the_envs():
    traj = _traj(_turn(0, "ask", redundant=True), _turn(1, "answer", 1.0), success=True)
    rows = turn_rewards(traj, RewardConfig())
    assert [sum(r.values()) for r in rows] == [0.0, 1.0]
    assert all(set(r) == set(COMPONENTS) for r in rows)


def test_effort_makes_the_return_r_minus_w_u():
    traj = _traj(_turn(0, "ask"), _turn(1, "act", user=False), _turn(2, "answer", 1.0), success=True)
    rows = turn_rewards(traj, RewardConfig(w=0.1))
    assert [r["effort"] for r in rows] == [-0.1, 0.0, -0.1]
    assert sum(sum(r.values()) for r in rows) == pytest.approx(1 - 0.1 * 2)


def test_redundant_questions_by_flag_or_zero_gain_but_not_unknown_gain():
    traj = _traj(_turn(0, "ask", redundant=True), _turn(1, "ask", info_gain_bits=0.0),
                 _turn(2, "ask", info_gain_bits=None), _turn(3, "ask", info_gain_bits=1.5),
                 _turn(4, "answer", redundant=True))
    rows = turn_rewards(traj, RewardConfig(lambda_is=0.05, lambda_ig=0.1))
    assert [r["redundant"] for r in rows] == [-0.05, -0.05, 0.0, 0.0, 0.0]
    assert rows[3]["info_gain"] == pytest.approx(0.15)


def test_overthinking_loop_restate_and_budget():
    plan = "Known: a quiet hotel. Plan: ask the budget now (budget 3 left)"
    traj = _traj(_turn(0, "ask", reasoning=plan), _turn(1, "ask", reasoning=plan), _turn(2, "ask", reasoning=LOOP),
                 _turn(3, "ask", reasoning="word " * 5 + "ok then fine"))
    config = RewardConfig(lambda_ot=0.05, think_budget=7)
    flags = turn_flags(traj.turns, config)
    assert [(f["loop"], f["restate"], f["over_budget"]) for f in flags] == [
        (False, False, True), (False, True, True), (True, False, True), (False, False, True)]
    relaxed = turn_flags(traj.turns, RewardConfig(think_budget=50))  # the loop has 60 words
    assert [f["over_budget"] for f in relaxed] == [False, False, True, False]
    assert [r["overthink"] for r in turn_rewards(traj, config)] == [-0.05] * 4


def test_early_stop_only_on_failed_short_episodes():
    failed = _traj(_turn(0, "ask"), _turn(1, "answer"))
    solved = _traj(_turn(0, "ask"), _turn(1, "answer", 1.0), success=True)
    config = RewardConfig(early_stop=0.05)
    assert [r["early_stop"] for r in turn_rewards(failed, config)] == pytest.approx([0, -0.85 / 3])
    assert [r["early_stop"] for r in turn_rewards(solved, config)] == [0, 0]
    assert [r["early_stop"] for r in turn_rewards(_traj(_turn(0, "answer")), config)] == [-0.5]


def test_invalid_turn_penalty():
    rows = turn_rewards(_traj(_turn(0, "invalid", user=False)), RewardConfig(invalid=0.2))
    assert rows[0]["invalid"] == -0.2


def test_bad_coefficients_fail_naming_the_field():
    with pytest.raises(ValueError, match="w must be >= 0"):
        RewardConfig(w=-0.1)
    with pytest.raises(ValueError, match="loop_share"):
        RewardConfig(loop_share=1.5)
