"""The registry, the group baseline, token spreading, properties every estimator must have, and no torch."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bao.algos import ESTIMATORS, UnknownEstimator, estimate, group_advantages, make_config, token_advantages
from tests.algos.helpers import episode

REWARDS = st.sampled_from([0.0, 0.0, 1.0, 0.5, -0.5, 0.25, 0.9])


@st.composite
def groups(draw, min_size=2, same_turns=False):
    """A batch of 1-3 groups of `min_size`-5 episodes with 1-6 turns and 0-4 tokens per turn."""
    episodes = []
    turns = draw(st.integers(1, 6))
    for g in range(draw(st.integers(1, 3))):
        for _ in range(draw(st.integers(min_size, 5))):
            n = turns if same_turns else draw(st.integers(1, 6))
            task = draw(st.lists(REWARDS, min_size=n, max_size=n))
            effort = [-0.1 * draw(st.booleans()) for _ in range(n)]
            tokens = draw(st.lists(st.integers(0, 4), min_size=n, max_size=n))
            choices = draw(st.lists(st.sampled_from(["action", "answer", "search"]), min_size=n, max_size=n))
            episodes.append(episode(f"g{g}", task, choices, tokens, effort=effort))
    return episodes


def test_registry_lists_the_four_estimators_and_names_the_choices_on_a_typo():
    assert list(ESTIMATORS) == ["grpo", "userrl", "bao-paper", "bao"]
    with pytest.raises(UnknownEstimator, match="grpo, userrl, bao-paper, bao"):
        estimate("ppo", [])


def test_make_config_overrides_defaults_and_rejects_unknown_keys():
    assert make_config("bao-paper").lambda_ot == 0.05
    assert make_config("bao-paper", lambda_ot=0.01).lambda_ot == 0.01
    with pytest.raises(ValueError, match="no setting w"):
        make_config("grpo", w=0.1)


def test_group_advantages_unbiased_std_and_verl_singletons():
    # scores 1, 0, 0: mean 1/3, unbiased std sqrt((4/9 + 1/9 + 1/9) / 2) = 0.57735
    out = group_advantages([1, 0, 0, 2], ["a", "a", "a", "b"], singleton_as_verl=True)
    assert out[:3] == pytest.approx([(2 / 3) / 0.57735127, (-1 / 3) / 0.57735127, (-1 / 3) / 0.57735127], rel=1e-6)
    assert out[3] == pytest.approx(2 / (1 + 1e-6))
    assert group_advantages([2], ["b"]) == [0.0]


def test_token_advantages_fill_policy_tokens_of_each_span_only():
    # 2 prompt tokens, turn 0 at 2 (2 policy tokens, 1 observation token), turn 1 at 5
    mask = [0, 0, 1, 1, 0, 1, 1]
    assert token_advantages([0.5, -1.0], mask, [2, 5]) == [0, 0, 0.5, 0.5, 0, -1.0, -1.0]
    assert token_advantages([0.5], mask, [2, 5]) == [0, 0, 0.5, 0.5, 0, 0, 0]


@pytest.mark.parametrize("name", list(ESTIMATORS))
@settings(max_examples=60, deadline=None)
@given(batch=groups(), data=st.data())
def test_advantages_are_zero_outside_policy_tokens(name, batch, data):
    out = estimate(name, batch)
    for ep, turns in zip(batch, out.turns):
        mask, starts = [], []
        for n in ep.span_tokens:
            starts.append(len(mask))
            policy = [1] * n
            mask += policy + [0] * data.draw(st.integers(0, 2))  # the observation after the turn
        spread = token_advantages(turns, mask, starts)
        assert all(v == 0 for v, m in zip(spread, mask) if not m)


@pytest.mark.parametrize("name", list(ESTIMATORS))
@settings(max_examples=60, deadline=None)
@given(batch=groups(min_size=1))
def test_a_group_of_identical_episodes_gets_zero(name, batch):
    copies = [ep for ep in batch[:1] for _ in range(4)]
    assert all(v == 0 for row in estimate(name, copies).turns for v in row)


@pytest.mark.parametrize("name", ["grpo", "bao"])
@settings(max_examples=60, deadline=None)
@given(batch=groups(), shift=st.sampled_from([-1.0, 0.5, 3.0]))
def test_shifting_every_return_of_a_group_changes_nothing_under_std_normalisation(name, batch, shift):
    """A constant added to every episode's return (on its last turn). A constant added to *every turn* is not
    neutral for turn-level estimators when episodes differ in length: it pays for length."""
    moved = [episode(ep.group, [*ep.components["task"][:-1], ep.components["task"][-1] + shift], ep.choices,
                     ep.span_tokens, effort=ep.components["effort"]) for ep in batch]
    before, after = estimate(name, batch), estimate(name, moved)
    for a, b in zip(before.turns, after.turns):
        assert a == pytest.approx(b, abs=1e-6)


@settings(max_examples=60, deadline=None)
@given(batch=groups(), shift=st.sampled_from([-1.0, 0.5, 3.0]))
def test_userrl_mean_score_ignores_a_constant_added_to_every_turn(batch, shift):
    moved = [episode(ep.group, [r + shift for r in ep.components["task"]], ep.choices, ep.span_tokens,
                     effort=ep.components["effort"]) for ep in batch]
    before, after = estimate("userrl", batch), estimate("userrl", moved)
    for a, b in zip(before.turns, after.turns):
        assert a == pytest.approx(b, abs=2e-3)  # the score is rounded to 4 decimals before the std divides it


@settings(max_examples=100, deadline=None)
@given(batch=groups())
def test_grpo_equals_userrl_equalized_on_the_undiscounted_return(batch):
    """Equalized credits spread A_hat evenly; the R2G score at gamma 1 is the return."""
    grpo = estimate("grpo", batch)
    userrl = estimate("userrl", batch, credit="equalized", score="r2g", gamma=1.0)
    for ep, a, b in zip(batch, grpo.turns, userrl.turns):
        for k, n in enumerate(ep.span_tokens):
            if n and sum(ep.span_tokens):
                assert a[k] == pytest.approx(b[k], abs=1e-9)


def test_grpo_equals_userrl_sum_when_every_episode_has_one_turn():
    batch = [episode("g", [r]) for r in (1.0, 0.0, 0.5, 0.0)]
    grpo, userrl = estimate("grpo", batch).turns, estimate("userrl", batch).turns
    assert [a for (a,) in grpo] == pytest.approx([b for (b,) in userrl])


def test_algos_and_rewards_import_without_torch():
    code = ("import sys; sys.modules['torch'] = None; import bao.algos, bao.rewards, bao.algos.cases; "
            "print(sorted(bao.algos.ESTIMATORS))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "bao-paper" in result.stdout
