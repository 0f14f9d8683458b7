import json

import pytest

from bao.agent.parse import parse_action
from bao.core.types import Task
from bao.envs import make, turtle, yes_no
from bao.envs.data import DataError
from bao.envs.turtle import KeyPoint, criterion_score, load_sheets
from bao.users.matcher import LexicalMatcher
from bao.users.text import tokens
from tests.conftest import needs_data

RUBRICS = {"7": {"evaluation": [{"statement": "The farmer taps heads.", "score": 0.6},
                                 {"statement": "The father wakes in a sweat.", "score": 0.4}]}}
SHEET = [{
    "story_id": "7", "title": "Ripe", "split": "test",
    "facts": [
        {"id": "farmer_mad", "answer": "yes", "statement": "The farmer is insane.",
         "questions": ["Is the farmer insane?", "Is the farmer mentally ill?"],
         "keywords": ["farmer", "insane", "crazy"]},
        {"id": "not_fruit", "answer": "no", "statement": "Nobody is testing melons.",
         "questions": ["Was he testing melons?"], "keywords": ["melon", "watermelon", "fruit"]},
    ],
    "key_points": [
        {"criterion": 0, "groups": [["farmer"], ["tap", "tapping", "knock"], ["head", "heads"]]},
        {"criterion": 1, "groups": [["father", "dad"], ["wake", "woke"], ["sweat"]]},
    ],
}]


@pytest.fixture
def story_env(tmp_path, monkeypatch):
    path = tmp_path / "sheets_test.json"
    path.write_text(json.dumps(SHEET))
    story = load_sheets(path, RUBRICS)[0]
    monkeypatch.setattr(turtle, "stories", lambda: {"7": story})
    monkeypatch.setattr(turtle, "_matcher", lambda story_id, *a, **k: LexicalMatcher(
        [turtle.Entry(f.id, (*f.questions, f.statement), f.keywords) for f in story.facts]))
    env = make("turtle")
    env.reset(Task("7", "turtle", "test", [{"role": "user", "content": "go"}], {"story_id": "7"}), seed=0)
    return env


def test_questions_are_answered_from_the_fact_sheet(story_env):
    yes = story_env.step(parse_action("[action] Was the farmer crazy?"))
    assert yes.observation == "Yes." and yes.info["revealed"] == ["farmer_mad"] and yes.info["info_gain_bits"] == 1.0
    no = story_env.step(parse_action("[action] Was he testing watermelons?"))
    assert no.observation == "No." and no.info["matched"] == "not_fruit"
    again = story_env.step(parse_action("[action] Is the farmer insane?"))
    assert again.info["redundant"] and again.info["info_gain_bits"] == 0.0
    nothing = story_env.step(parse_action("[action] Was it raining on Tuesday?"))
    assert nothing.observation == turtle.DOES_NOT_MATTER and nothing.info["redundant"]


def test_answer_reward_is_the_improvement_over_the_best_score(story_env):
    half = story_env.step(parse_action("[answer] A farmer was tapping heads at night."))
    assert half.reward == pytest.approx(0.6) and not half.done
    worse = story_env.step(parse_action("[answer] Something about a farmer."))
    assert worse.reward == 0.0
    full = story_env.step(parse_action("[answer] The farmer kept tapping heads; the father woke up in a cold sweat."))
    assert full.reward == pytest.approx(0.4) and full.done and full.info["success"]
    assert "Covered" in full.observation


def test_criterion_scores_on_the_userrl_scale():
    point = KeyPoint("s", 1.0, ((("farmer",),), (("tap",), ("knock",)), (("head",),)))
    assert criterion_score(tokens("the farmer knocked on heads"), point) == 1.0
    assert criterion_score(tokens("the farmer knocks"), point) == 0.5
    assert criterion_score(tokens("a farmer"), point) == 0.0
    phrase = KeyPoint("s", 1.0, ((tokens("thought dead"),),))
    assert criterion_score(tokens("he thought she was dead"), phrase) == 1.0
    assert criterion_score(tokens("dead, he thought"), phrase) == 0.0


def test_bad_sheets_fail_at_load_with_file_and_field(tmp_path):
    path = tmp_path / "sheets_test.json"
    bad = json.loads(json.dumps(SHEET))
    bad[0]["facts"][0]["answer"] = "perhaps"
    path.write_text(json.dumps(bad))
    with pytest.raises(DataError, match=r"sheets_test.json story 0 \(id 7\) fact 0: field 'answer'"):
        load_sheets(path, RUBRICS)
    bad = json.loads(json.dumps(SHEET))
    bad[0]["key_points"].pop()
    path.write_text(json.dumps(bad))
    with pytest.raises(DataError, match="field 'key_points' must have one entry per rubric criterion"):
        load_sheets(path, RUBRICS)


@needs_data
def test_the_true_story_scores_high_against_the_shipped_key_points():
    """A sheet whose key points miss the real story's wording would make the offline judge unfair."""
    env = make("turtle")
    scores = [turtle.story_score(t.hidden["bottom"], turtle.stories()[t.id])[0] for t in env.tasks("test")]
    assert sum(scores) / len(scores) >= 0.9


# --- the LLM user (UserRL's mode), against a local fake endpoint ---

def _criteria_section(prompt: str) -> list[str]:
    return prompt.split("## Criteria\n")[1].split("\n\n## ")[0].splitlines()


def _llm_env(server, **kwargs):
    from tests.users.llm_server import llm_config

    env = make("turtle", user="llm", llm=llm_config(server), **kwargs)
    task = env.tasks("test")[0]
    env.reset(task, seed=3)
    return env, turtle._rubrics()[task.hidden["story_id"]]


@needs_data
def test_llm_user_answers_yes_no_maybe_from_surface_and_bottom_with_the_turn_seed():
    pytest.importorskip("openai")
    from tests.llm_client.fake_server import FakeServer
    from tests.users.llm_server import fenced, queued

    replies = queued(fenced({"response": "Yes"}), "{'thought': 'x', 'response': 'maybe'}", "no JSON at all")
    with FakeServer(replies) as server:
        env, record = _llm_env(server)
        yes = env.step(parse_action("[action] Was someone hurt?"))
        maybe = env.step(parse_action("[action] Was it raining?"))
        broken = env.step(parse_action("[action] Did he know the girl?"))
    assert (yes.observation, maybe.observation) == ("Yes.", "Maybe.")
    assert not yes.info["redundant"] and yes.info["info_gain_bits"] is None
    assert maybe.info["redundant"]  # "Maybe" reveals nothing
    assert broken.observation == yes_no.ANSWER_FALLBACK and broken.info["redundant"] and broken.info["fallback"]
    first = server.requests[0]
    assert first["messages"][0]["content"] == turtle.QUESTION_SYSTEM
    assert record["new_surface"] in first["messages"][1]["content"]
    assert record["new_bottom"] in first["messages"][1]["content"]
    assert [r["seed"] for r in server.requests] == [3001, 3002, 3003]


@needs_data
def test_llm_judge_scores_each_criterion_and_the_weights_are_applied_in_code():
    pytest.importorskip("openai")
    from tests.llm_client.fake_server import FakeServer, completion
    from tests.users.llm_server import fenced

    def judge(request):
        n = len(_criteria_section(request["messages"][1]["content"]))
        return completion(fenced({"scores": [{"score": 1}] + [{"score": 0.5}] * (n - 1)}))

    with FakeServer(judge) as server:
        env, record = _llm_env(server)
        weights = [c["score"] for c in record["evaluation"]]
        result = env.step(parse_action("[answer] My explanation of the whole story."))
        prompt = server.requests[0]["messages"][1]["content"]
    expected = weights[0] + 0.5 * sum(weights[1:])
    assert result.reward == pytest.approx(expected) and result.info["story_score"] == pytest.approx(expected)
    assert result.info["criteria"] == [1.0] + [0.5] * (len(weights) - 1)
    assert record["evaluation"][0]["statement"] in result.observation  # covered criteria are listed
    assert _criteria_section(prompt) == [f"{i}. {c['statement']}" for i, c in enumerate(record["evaluation"], 1)]


@needs_data
def test_llm_judge_with_the_wrong_number_of_scores_falls_back_to_zero():
    pytest.importorskip("openai")
    from tests.llm_client.fake_server import FakeServer
    from tests.users.llm_server import fenced, queued

    with FakeServer(queued(fenced({"scores": [1, 1, 1, 1, 1, 1]}))) as server:
        env, _ = _llm_env(server)
        result = env.step(parse_action("[answer] A story."))
    assert result.reward == 0.0 and result.observation == turtle.JUDGE_FALLBACK and not result.done


@needs_data
def test_llm_user_flags_a_repeated_question_as_redundant():
    pytest.importorskip("openai")
    from tests.llm_client.fake_server import FakeServer, completion
    from tests.users.llm_server import fenced

    with FakeServer(lambda _r: completion(fenced({"response": "No"}))) as server:
        env, _ = _llm_env(server)
        first = env.step(parse_action("[action] Did the man drown?"))
        again = env.step(parse_action("[action] Did the man drown in the water?"))
    assert not first.info["redundant"] and again.info["redundant"]


def test_the_llm_user_needs_a_config_and_the_spec_lists_both_backends():
    assert turtle.TurtleEnv.spec.backends == ("offline", "llm")
    with pytest.raises(ValueError, match="needs a model"):
        make("turtle", user="llm")
    with pytest.raises(ValueError, match="no 'human' user"):
        make("turtle", user="human")
