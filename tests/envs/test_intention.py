import json
import math

import pytest

from bao.agent.parse import parse_action
from bao.core.types import Task
from bao.envs import intention, make
from bao.envs.data import DataError
from bao.envs.intention import REDIRECT, Detail, hidden_option, question_reward
from bao.pipelines.evaluate import EvalConfig, evaluate
from bao.policies.scripted import make_agent
from bao.rollout.episodes import run_episodes
from tests.conftest import needs_data

DETAILS = [
    {"description": "Type of pizza", "importance": 2, "inquiry": "What type of pizza are you interested in making?",
     "options": ["Neapolitan", "New York-style", "Deep dish"]},
    {"description": "Dietary restrictions", "importance": 3, "inquiry": "Do you have any dietary restrictions?",
     "options": ["Gluten-free", "Vegan", "Lactose-free", "No restrictions"]},
    {"description": "Level of cooking expertise", "importance": 1,
     "inquiry": "What is your level of cooking expertise?", "options": ["Beginner", "Expert"]},
]
TASK = Task("pizza", "intention", "test", [{"role": "user", "content": "Find a recipe for homemade pizza."}],
            {"category": "Food", "task": "Find a recipe for homemade pizza.", "details": DETAILS})


def _env(**kwargs):
    env = make("intention", **kwargs)
    env.reset(TASK, seed=0)
    return env


def _ask(env, text):
    return env.step(parse_action(text))


def test_reward_weights_importance_and_penalises_covering_several_details():
    assert question_reward([3]) == 1.0 and question_reward([2]) == 0.7 and question_reward([1]) == 0.4
    assert question_reward([2, 3]) == pytest.approx(0.8)
    assert question_reward([2, 2, 1]) == pytest.approx(0.3)
    assert question_reward([1, 1, 1, 1]) == 0.0  # floored, never negative
    assert question_reward([]) == 0.0
    assert question_reward([2], step_penalty=0.1) == pytest.approx(0.6)
    assert question_reward([2, 2], multi_detail_penalty=0.3) == pytest.approx(0.4)


def test_a_targeted_question_reveals_the_held_option_with_its_information_gain():
    env = _env()
    result = _ask(env, "[action] What kind of pizza do you want to make?")
    held = hidden_option("pizza", 0, Detail("Type of pizza", 2, "", tuple(DETAILS[0]["options"])))
    assert held in result.observation
    assert result.reward == pytest.approx(0.7) and not result.done
    assert result.info["revealed"] == ["Type of pizza"] and result.info["matched"] == "Type of pizza"
    assert result.info["info_gain_bits"] == pytest.approx(math.log2(3)) and not result.info["redundant"]
    assert result.info["hypotheses_left"] == 4 * 2  # the options of the two details still open


def test_asking_again_or_off_topic_is_redundant_and_earns_nothing():
    env = _env()
    _ask(env, "[action] What type of pizza?")
    again = _ask(env, "[action] Which pizza type was it again?")
    assert again.observation.startswith("As I said") and again.reward == 0.0
    assert again.info["redundant"] and again.info["revealed"] == [] and again.info["info_gain_bits"] == 0.0
    off = _ask(env, "[action] How is the weather where you live?")
    assert off.observation == REDIRECT and off.info["redundant"] and off.info["matched"] is None


def test_a_question_asking_two_things_covers_both_with_the_penalty_and_can_end_the_episode():
    env = _env()
    _ask(env, "[action] What type of pizza would you like?")
    both = _ask(env, "[action] Do you have any dietary restrictions, and what is your cooking level?")
    assert sorted(both.info["revealed"]) == ["Dietary restrictions", "Level of cooking expertise"]
    assert both.reward == pytest.approx(1.0 - 0.2)
    assert both.info["info_gain_bits"] == pytest.approx(math.log2(4) + math.log2(2))
    assert both.done and both.info["success"] and both.info["terminated"]


def test_finish_ends_with_zero_reward_and_no_success():
    result = _ask(_env(), "[finish]")
    assert result.done and result.reward == 0.0 and not result.info["success"]
    assert "0/3" in result.observation


def test_invalid_output_gets_a_format_error_and_counts_as_a_step():
    env = _env(max_steps=2)
    bad = env.step(parse_action("I think the answer is pizza"))
    assert bad.info["kind"] == "invalid" and bad.reward == 0.0 and "Invalid action format" in bad.observation
    assert env.steps == 1
    assert _ask(env, "[action] Hello?").done  # second step hits max_steps=2: truncated


def test_search_is_refused_with_a_format_message():
    result = _ask(_env(), "[search] pizza recipes")
    assert result.info["kind"] == "search" and result.reward == 0.0 and "no search" in result.observation


def test_held_options_are_fixed_by_seed_and_task():
    detail = Detail("Type of pizza", 2, "", ("a", "b", "c", "d", "e", "f"))
    assert hidden_option("t", 1, detail) == hidden_option("t", 1, detail)
    assert len({hidden_option("t", seed, detail) for seed in range(30)}) > 1


def test_a_malformed_intention_file_names_the_file_record_and_field(tmp_path, monkeypatch):
    folder = tmp_path / "gyms" / "intention"
    folder.mkdir(parents=True)
    detail = {"description": "d", "importance": "2", "options": ["a"]}
    broken = [{"id": "x", "task": "Do it.", "missing_details": [detail]}]
    (folder / "all_intentions_test.json").write_text(json.dumps(broken))
    monkeypatch.setenv("BAO_DATA_DIR", str(tmp_path))
    intention._intentions.cache_clear()
    intention._tasks.cache_clear()
    try:
        where = r"all_intentions_test.json task 0 \(id x\) detail 0: missing field 'inquiry'"
        with pytest.raises(DataError, match=where):
            make("intention").tasks("test")
    finally:
        intention._intentions.cache_clear()
        intention._tasks.cache_clear()


@needs_data
def test_tasks_come_from_the_official_splits_with_their_prompts():
    env = make("intention")
    assert len(env.tasks("train")) == 380
    test = env.tasks("test")
    assert len(test) == 40
    assert test[0].prompt[0]["role"] == "system" and "IntentionGym" in test[0].prompt[0]["content"]
    assert all(1 <= len(t.hidden["details"]) <= 9 for t in test)


@needs_data
def test_matcher_accuracy_on_the_paraphrase_set_is_at_least_90_percent():
    score = intention.paraphrase_accuracy("test")
    assert score.total == 334 and score.rate >= 0.9, score.misses


@needs_data
def test_two_evaluation_runs_write_identical_trajectory_files(tmp_path):
    for run in ("a", "b"):
        evaluate(EvalConfig(env="intention", n=5, seeds=(3,)), make_agent("random", "intention"), tmp_path / run)
    assert (tmp_path / "a" / "trajectories.jsonl").read_bytes() == (tmp_path / "b" / "trajectories.jsonl").read_bytes()


@needs_data
def test_oracle_covers_every_detail_with_one_question_each_and_heuristic_beats_answer_now():
    tasks = make("intention").tasks("test")[:12]
    jobs = [(t, 0) for t in tasks]
    oracle = run_episodes(lambda: make("intention"), make_agent("oracle", "intention"), jobs)
    assert all(t.success for t in oracle)
    assert [t.U for t in oracle] == [len(t.hidden["details"]) for t in tasks]
    heuristic = run_episodes(lambda: make("intention"), make_agent("heuristic", "intention"), jobs)
    answer_now = run_episodes(lambda: make("intention"), make_agent("answer-now", "intention"), jobs)
    assert sum(t.R for t in heuristic) > sum(t.R for t in answer_now) + 5


# --- the LLM user and coverage judge (UserRL's mode), against a local fake endpoint ---

def _llm_env(server):
    from tests.users.llm_server import llm_config

    return _env(user="llm", llm=llm_config(server))


def _user_and_judge(reply: str, judge: str):
    """The reply and the judge's verdict, each for its own prompt (the env sends both every question)."""
    from tests.llm_client.fake_server import completion

    def answer(request):
        return completion(judge if request["messages"][0]["content"] == intention.JUDGE_SYSTEM else reply)

    return answer


def test_llm_judge_covers_details_and_the_reward_follows_userrls_rules():
    pytest.importorskip("openai")
    from tests.llm_client.fake_server import FakeServer
    from tests.users.llm_server import fenced

    verdict = fenced({"analysis": "diet", "task_related": True, "covered": [1, "0", 7]})
    with FakeServer(_user_and_judge(fenced({"response": "Vegan and deep dish, please."}), verdict)) as server:
        env = _llm_env(server)
        result = _ask(env, "[action] Any dietary needs, and which style of pizza?")
        prompts = {r["messages"][0]["content"]: r["messages"][1]["content"] for r in server.requests}
    assert result.observation == "Vegan and deep dish, please."
    assert result.reward == pytest.approx(question_reward([3, 2]))
    assert result.info["revealed"] == ["Dietary restrictions", "Type of pizza"] and not result.info["redundant"]
    assert result.info["remaining"] == 1
    held = hidden_option("pizza", 0, Detail("Type of pizza", 2, "", tuple(DETAILS[0]["options"])))
    assert f"Type of pizza: {held}" in prompts[intention.REPLY_SYSTEM]  # the user knows what it wants
    assert "0. [medium] Type of pizza" in prompts[intention.JUDGE_SYSTEM]
    assert "[high] Dietary restrictions" in prompts[intention.JUDGE_SYSTEM]


def test_llm_judge_shows_only_uncovered_details_and_the_last_exchanges():
    pytest.importorskip("openai")
    from tests.llm_client.fake_server import FakeServer
    from tests.users.llm_server import fenced

    with FakeServer(_user_and_judge(fenced({"response": "Vegan."}), fenced({"covered": [1]}))) as server:
        env = _llm_env(server)
        _ask(env, "[action] Any dietary needs?")
        second = _ask(env, "[action] How experienced a cook are you?")
        judge_prompt = [r for r in server.requests if r["messages"][0]["content"] == intention.JUDGE_SYSTEM][-1]
    text = judge_prompt["messages"][1]["content"]
    assert "Dietary restrictions" not in text.split("## Missing details")[1].split("## The conversation")[0]
    assert "Helper: Any dietary needs?\nUser: Vegan." in text
    assert second.info["revealed"] == ["Level of cooking expertise"]


def test_an_off_task_question_covers_nothing_and_is_redundant():
    pytest.importorskip("openai")
    from tests.llm_client.fake_server import FakeServer
    from tests.users.llm_server import fenced

    verdict = "{'analysis': 'chit-chat', 'task_related': False, 'covered': [0]}"
    with FakeServer(_user_and_judge(fenced({"response": "Let's stay on my pizza."}), verdict)) as server:
        result = _ask(_llm_env(server), "[action] How is the weather?")
    assert result.reward == 0.0 and result.info["revealed"] == [] and result.info["redundant"]


def test_unparsable_llm_replies_fall_back_and_score_nothing():
    pytest.importorskip("openai")
    from tests.llm_client.fake_server import FakeServer

    with FakeServer(_user_and_judge("no json", "no json either")) as server:
        result = _ask(_llm_env(server), "[action] What style of pizza?")
    assert result.observation == intention.REPLY_FALLBACK and result.reward == 0.0
    assert result.info["fallback"] and result.info["redundant"]  # the fallback reply is a non-answer


def test_covering_every_detail_with_the_llm_judge_ends_the_episode():
    pytest.importorskip("openai")
    from tests.llm_client.fake_server import FakeServer
    from tests.users.llm_server import fenced

    with FakeServer(_user_and_judge(fenced({"response": "All of it."}), fenced({"covered": [0, 1, 2]}))) as server:
        result = _ask(_llm_env(server), "[action] Tell me style, diet and skill?")
    assert result.done and result.info["success"] and result.reward == pytest.approx(question_reward([2, 3, 1]))
