"""One policy for the whole frontier: each training group draws its effort cost w from `w_choices`, is rewarded
R - w*U with it and told it in the prompt; an evaluation can tell a policy any w."""

from __future__ import annotations

from collections import Counter

import pytest

from bao.agent.effort import effort_sentence
from bao.pipelines import rl_data
from bao.pipelines.evaluate import EvalConfig, evaluate
from bao.pipelines.rl_config import build_config
from bao.policies.base import Context, Policy
from tests.pipelines.clue_env import ANSWER, ASK, ClueEnv

pytestmark = pytest.mark.usefixtures("clue_env")
KINDS = ClueEnv.spec.user_kinds


def test_group_costs_are_a_balanced_function_of_seed_step_and_group():
    choices = [0.0, 0.1, 0.5]
    draws = [rl_data.group_costs(choices, 7, step, 4) for step in range(3)]
    assert draws == [rl_data.group_costs(choices, 7, step, 4) for step in range(3)]
    assert Counter(w for step in draws for w in step) == {0.0: 4, 0.1: 4, 0.5: 4}  # 12 groups, 3 costs
    assert [rl_data.group_costs(choices, s, 0, 3) for s in range(6)] != [rl_data.group_costs(choices, 0, 0, 3)] * 6
    assert rl_data.group_costs([], 7, 0, 4) == []


def test_w_choices_are_checked_before_any_model_loads():
    for bad in ("0,-0.1", "0,x", "nan"):
        with pytest.raises(ValueError, match="--w-choices must be numbers >= 0"):
            build_config(None, {"env": "clue", "w_choices": bad}, [])
    assert build_config(None, {"env": "clue", "w": 0.3, "w_choices": "0,0.5"}, []).eval_config().prompt_w == 0.3
    assert build_config(None, {"env": "clue", "w": 0.3}, []).eval_config().prompt_w is None


@pytest.mark.usefixtures("one_torch_thread")
def test_each_group_is_told_its_w_and_rewarded_with_it_the_same_way_every_run(warm_start, tmp_path, monkeypatch):
    from bao.pipelines import rl
    from bao.pipelines.rl import Trainer

    seen: list[tuple[str, float, str, list[float], list[bool]]] = []

    def spy(traj, group, config):
        episode, rows = rl_data.to_episode(traj, group, config)
        user = next(m["content"] for m in traj.messages if m["role"] == "user")
        seen.append((group, config.w, user, [row["effort"] for row in rows], [t.user_involved for t in traj.turns]))
        return episode, rows

    monkeypatch.setattr(rl, "to_episode", spy)
    settings = dict(env="clue", model=str(warm_start), steps=1, tasks_per_step=4, group_size=2, w_choices="0,0.5",
                    temperature=1.0, top_p=1.0, max_new_tokens=8, micro_batch=8, seed=3)
    runs = []
    for name in ("a", "b"):
        seen.clear()
        Trainer(build_config(None, {**settings, "out": tmp_path / name}, [])).train_step()
        runs.append(list(seen))
    assert [(g, w) for g, w, *_ in runs[0]] == [(g, w) for g, w, *_ in runs[1]]  # deterministic
    expected = rl_data.group_costs([0.0, 0.5], 3, 0, 4)
    assert sorted(expected) == [0.0, 0.0, 0.5, 0.5]
    groups: dict[str, set[float]] = {}
    for k, (group, w, user, effort, involved) in enumerate(runs[0]):
        assert w == expected[k // 2]  # the group's draw
        assert user.endswith(effort_sentence(w, KINDS))
        assert effort == [-w if u else 0.0 for u in involved]
        groups.setdefault(group, set()).add(w)
    assert len(groups) == 4 and all(len(ws) == 1 for ws in groups.values())  # one w per group


class _AskThenAnswer(Policy):
    name = "ask-then-answer"

    def act(self, ctx: Context) -> str:
        return ANSWER if ctx.turn else ASK


def test_an_evaluation_tells_the_policy_the_w_it_is_given(tmp_path):
    told = evaluate(EvalConfig(env="clue", n=2, prompt_w=0.25), _AskThenAnswer(), tmp_path / "told")
    plain = evaluate(EvalConfig(env="clue", n=2), _AskThenAnswer(), tmp_path / "plain")
    sentence = effort_sentence(0.25, KINDS)
    assert all(t.messages[1]["content"].endswith(sentence) for t in told.trajectories)
    assert not any("costs them effort" in m["content"] for t in plain.trajectories for m in t.messages)
    assert told.metrics["score"].mean == plain.metrics["score"].mean == 1.0  # the cost is told, not charged
    assert '"prompt_w": 0.25' in (tmp_path / "told" / "metrics.json").read_text()
