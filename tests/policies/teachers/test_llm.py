import pytest

from bao.agent.behaviors import parse_behavior
from bao.pipelines.evaluate import EvalConfig, evaluate
from bao.policies.teachers import make_teacher
from bao.policies.teachers.llm import rewrite
from tests.conftest import needs_data

GRAMMAR = ("Known: what the replies said\nAlive: some entities\nRuled out: nothing yet\n"
           "Plan: make the move (budget 99 left)")


@needs_data
def test_rewrite_keeps_a_broken_turn_and_rewrites_the_others_with_the_true_budget():
    trajectories = evaluate(EvalConfig("telepathy", split="train", n=20), make_teacher("telepathy")).trajectories
    traj = next(t for t in trajectories if any(turn.kind == "invalid" for turn in t.turns))
    valid = [turn for turn in traj.turns if turn.kind != "invalid"]
    rewritten = rewrite(traj, [GRAMMAR] * len(valid))
    assert rewritten is not None
    for before, after in zip(traj.turns, rewritten.turns, strict=True):
        if before.kind == "invalid":
            assert after == before
        else:
            assert parse_behavior(after.reasoning).budget == 16 - after.index
            assert after.reasoning.startswith("Known: what the replies said")
    assert [m["content"] for m in rewritten.messages[2::2]] == [t.output for t in rewritten.turns]
    assert [m["content"] for m in rewritten.messages[3::2]] == [t.observation for t in rewritten.turns]
    with pytest.raises(ValueError, match="answers for"):
        rewrite(traj, [GRAMMAR] * len(traj.turns))
