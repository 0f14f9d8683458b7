"""`episode_view`: each turn's reward components and flags under the given reward settings, texts cut."""

from __future__ import annotations

from bao.core.types import Trajectory, Turn
from bao.report.episodes import TEXT_LIMIT, episode_view
from bao.rewards import RewardConfig

LOOP = " ".join(["check the same thing again"] * 8)


def _turn(index: int, kind: str, reasoning: str = "", user: bool = False, reward: float = 0.0, **info) -> Turn:
    return Turn(index=index, output="", kind=kind, content=f"c{index}", reasoning=reasoning, observation="x" * 5000,
                reward=reward, done=False, user_involved=user, info=info)


def _trajectory() -> Trajectory:
    turns = [_turn(0, "ask", user=True, redundant=True), _turn(1, "invalid"), _turn(2, "act", reasoning=LOOP),
             _turn(3, "answer", user=True, reward=1.0)]
    return Trajectory(env="function", task_id="t", seed=0, policy="p", turns=turns, R=1.0, score=1.0, U=2, success=True,
                      messages=[{"role": "system", "content": "rules"}, {"role": "user", "content": "the task"}])


def test_each_turn_carries_its_components_and_the_flags_behind_them():
    config = RewardConfig(w=0.1, lambda_is=0.2, lambda_ot=0.3, invalid=0.5)
    turns = episode_view(_trajectory(), config)["turns"]
    assert [t["flags"]["redundant"] for t in turns] == [True, False, False, False]
    assert [t["flags"]["invalid"] for t in turns] == [False, True, False, False]
    assert turns[2]["flags"]["overthink"] == ["loop"]
    assert turns[0]["components"]["effort"] == -0.1 and turns[0]["components"]["redundant"] == -0.2
    assert turns[1]["components"]["invalid"] == -0.5 and turns[2]["components"]["overthink"] == -0.3
    assert turns[3]["shaped"] == 0.9


def test_default_settings_give_the_task_reward_alone():
    view = episode_view(_trajectory(), RewardConfig())
    assert [t["shaped"] for t in view["turns"]] == [0.0, 0.0, 0.0, 1.0] and view["shaped"] == 1.0


def test_the_task_statement_is_the_first_user_message_and_long_texts_are_cut():
    view = episode_view(_trajectory(), RewardConfig())
    assert view["prompt"] == "the task"
    reply = view["turns"][0]["reply"]
    assert reply.startswith("x" * TEXT_LIMIT) and reply.endswith("[1000 more characters cut]")
