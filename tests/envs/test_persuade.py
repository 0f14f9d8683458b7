import pytest

from bao.agent.parse import parse_action
from bao.core.types import Task
from bao.envs import make, persuade
from bao.envs.persuade import STANCES, reasons_of, stance_index, stance_reward
from tests.conftest import needs_data

CLAIM = "Cities should ban private cars from their centres"
ARGUMENT = (
    "Banning private cars from city centres would cut air pollution and make streets safer for pedestrians. "
    "Public transport networks in most large cities already carry the majority of commuters every day. "
    "Shops in pedestrian zones usually report higher footfall and steadier sales after the change. "
    "Freed road space can become parks, cycle lanes and outdoor seating for restaurants. "
    "Noise levels drop sharply once through traffic disappears from residential streets nearby. "
    "Emergency vehicles and deliveries can keep special permits, so essential services continue."
)
ON_TOPIC = ("I disagree that cities should ban private cars from their centres: the evidence shows such bans "
            "impose heavy costs on disabled residents, night workers and small traders.")


def _env(**kwargs):
    env = make("persuade", **kwargs)
    env.reset(Task("t", "persuade", "test", [{"role": "user", "content": CLAIM}],
                   {"claim": CLAIM, "argument": ARGUMENT}), seed=0)
    return env


def _argue(env, text):
    return env.step(parse_action(f"[answer] {text}"))


def test_reward_is_userrls_stance_change_since_the_previous_stance():
    assert stance_reward(0, 1) == pytest.approx(0.166667)
    assert stance_reward(1, 4) == 0.5
    assert stance_reward(0, 6) == 1.0
    assert stance_reward(3, 3) == 0.0 and stance_reward(4, 2) == 0.0
    assert stance_index("partly   DISAGREE") == 4 and stance_index("Somewhat agree") is None


def test_an_engaging_argument_moves_the_persona_one_level():
    env = _env()
    result = _argue(env, ON_TOPIC)
    assert result.reward == pytest.approx(1 / 6, abs=1e-6) and not result.done
    assert result.info["stance"] == "Agree" and result.info["stance_before"] == "Strongly Agree"
    assert "My stance is now: Agree." in result.observation and not result.info["redundant"]


def test_a_repeated_argument_is_redundant_and_moves_nothing():
    env = _env()
    _argue(env, ON_TOPIC)
    again = _argue(env, ON_TOPIC.replace("heavy", "large"))
    assert again.info["redundant"] and again.reward == 0.0 and again.info["stance"] == "Agree"


@pytest.mark.parametrize("text, note", [
    ("I disagree, the evidence shows costs and risks that nobody has measured carefully anywhere yet.", "off-topic"),
    ("Cities should not ban private cars from their centres because people like driving their cars there.",
     "no-evidence"),
    ("However, ban cars?", "too-short"),
])
def test_an_argument_that_does_not_engage_moves_nothing(text, note):
    result = _argue(_env(), text)
    assert result.reward == 0.0 and result.info["persona"] == note and result.info["stance"] == "Strongly Agree"


def test_past_neutral_only_the_rebuttal_of_a_held_reason_moves_and_the_persona_voices_that_reason():
    env = _env()
    env.debate.stance = STANCES.index("Neutral")
    held = _argue(env, ON_TOPIC)
    first = reasons_of(CLAIM, ARGUMENT)[0]
    assert held.reward == 0.0 and held.info["persona"] == "reason-unanswered"
    assert first[1:40] in held.observation
    rebuttal = _argue(env, f"You say that {first} However, the evidence on pollution is weak and the costs are real.")
    assert rebuttal.reward == pytest.approx(1 / 6, abs=1e-6) and rebuttal.info["stance"] == "Partly Disagree"


def test_reaching_strongly_disagree_ends_the_episode_with_success():
    env = _env()
    rewards = []
    for reason in reasons_of(CLAIM, ARGUMENT)[:6]:
        result = _argue(env, f"You say that {reason} However, the evidence for that is flawed and costly.")
        rewards.append(result.reward)
    assert result.done and result.info["success"] and result.info["stance"] == "Strongly Disagree"
    assert sum(rewards) == pytest.approx(1.0, abs=1e-5)


def test_finish_search_and_invalid_outputs_score_nothing():
    env = _env()
    assert not env.step(parse_action("[search] cars")).done
    assert "Invalid action format" in env.step(parse_action("hello")).observation
    end = env.step(parse_action("[finish]"))
    assert end.done and end.reward == 0.0 and end.observation == persuade.ENDED and not end.info["success"]


def test_every_argument_counts_as_user_effort_and_action_behaves_like_answer():
    env = _env()
    result = env.step(parse_action(f"[action] {ON_TOPIC}", env.spec.action_kind))
    assert result.info["user_involved"] and result.info["stance"] == "Agree"


@needs_data
def test_tasks_come_from_the_persuasion_split_with_claim_and_argument():
    env = make("persuade")
    test, train = env.tasks("test"), env.tasks("train")
    assert (len(train), len(test)) == (378, 42)
    task = test[0]
    assert task.hidden["claim"] in task.prompt[-1]["content"] and len(task.hidden["argument"]) > 200
    assert all(len(reasons_of(t.hidden["claim"], t.hidden["argument"])) >= 6 for t in train + test)


# --- the LLM persona (UserRL's mode), against a local fake endpoint ---

def test_llm_persona_sets_the_stance_and_falls_back_as_userrl_does():
    pytest.importorskip("openai")
    from tests.llm_client.fake_server import FakeServer
    from tests.users.llm_server import fenced, llm_config, queued

    replies = queued(fenced({"thought": "t", "response": "Fair, you have a point.", "stance": "partly agree"}),
                     "no json here",
                     fenced({"thought": "t", "response": "Hmm.", "stance": "Somewhat unsure"}),
                     fenced({"thought": "t", "response": "You win.", "stance": "Strongly Disagree"}))
    with FakeServer(replies) as server:
        env = _env(user="llm", llm=llm_config(server))
        moved = _argue(env, ON_TOPIC)
        broken = _argue(env, "Another point about parking and buses.")
        stray = _argue(env, "A third point about deliveries.")
        won = _argue(env, "A last point about emergency vehicles.")
    assert moved.observation == "Fair, you have a point." and moved.reward == pytest.approx(2 / 6, abs=1e-6)
    assert broken.observation == persuade.LLM_FALLBACK and broken.reward == 0.0 and broken.info["redundant"]
    assert stray.info["stance"] == "Partly Agree" and stray.reward == 0.0
    assert won.done and won.info["success"] and won.reward == pytest.approx(4 / 6, abs=1e-6)
    first = server.requests[0]["messages"]
    assert first[0]["content"] == persuade.PERSONA_SYSTEM
    assert CLAIM in first[1]["content"] and ARGUMENT in first[1]["content"] and "Strongly Agree" in first[1]["content"]
    assert "Turn 1:" in server.requests[1]["messages"][1]["content"]


def test_persuade_lists_both_user_backends():
    assert persuade.PersuadeEnv.spec.backends == ("offline", "llm")
