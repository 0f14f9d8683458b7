import pytest

from bao.agent.parse import parse_action
from bao.core.types import Task
from bao.envs import make, search
from bao.envs.data import DataError
from bao.envs.search import judge_offline
from bao.envs.search_index import BM25Index, Passage
from tests.conftest import needs_data

PASSAGES = [
    Passage("citibank-1", "Citibank", "Citibank was founded in 1812 as the City Bank of New York."),
    Passage("madison-1", "James Madison", "James Madison was president of the United States from 1809 to 1817."),
    Passage("adams-1", "John Adams", "John Adams was president of the United States from 1797 to 1801."),
]
QUESTION = "Who was president of the United States in the year that Citibank was founded?"


def _env(**kwargs):
    env = make("search", search=kwargs.pop("search", BM25Index(PASSAGES)), **kwargs)
    env.reset(Task("Bamboogle-1", "search", "test", [{"role": "user", "content": QUESTION}],
                   {"question": QUESTION, "answer": "james madison", "aliases": ()}), seed=0)
    return env


@pytest.mark.parametrize("answer, gold, how", [
    ("James Madison", "james madison", "exact"),
    ("james-madison!", "james madison", "exact"),
    ("Madison", "James Madison", "f1"),
    ("June 20, 1837", "20 June 1837", "f1"),
    ("4884", "4,884 m", "f1"),
    ("Toghon Temur", "Toghon Temür", "f1"),
    ("it is the letter l", "l", "contains"),
    ("James Cameron", "James Cameroon", None),
    ("April 30, 1790", "April 30, 1789", None),
    ("John Adams", "James Madison", None),
    ("", "James Madison", None),
])
def test_offline_judge_accepts_equivalent_answers_and_rejects_others(answer, gold, how):
    assert judge_offline(answer, gold) == how


def test_an_alias_is_accepted():
    assert judge_offline("James Cameron", "James Cameroon", ("James Cameron",)) == "alias"


def test_search_shows_ranked_results_and_flags_a_search_with_nothing_new():
    env = _env()
    first = env.step(parse_action("[search] Citibank founded"))
    assert first.observation.splitlines()[1].startswith("1. Citibank: Citibank was founded in 1812")
    assert first.info["revealed"] == ["citibank-1"] and not first.info["redundant"] and first.reward == 0.0
    again = env.step(parse_action("[search] when was Citibank founded"))
    assert again.info["redundant"] and not again.info["user_involved"]


def test_searches_beyond_the_limit_are_refused():
    env = _env(max_search_steps=2)
    env.step(parse_action("[search] Citibank"))
    env.step(parse_action("[search] James Madison"))
    refused = env.step(parse_action("[search] John Adams"))
    assert refused.observation == search.SEARCH_LIMIT.format(n=2) and "John Adams" not in refused.observation


def test_a_wrong_answer_continues_and_a_right_one_ends_with_reward_one():
    env = _env()
    wrong = env.step(parse_action("[answer] John Adams"))
    assert wrong.reward == 0.0 and not wrong.done and wrong.info["user_involved"]
    repeated = env.step(parse_action("[answer] john adams"))
    assert repeated.info["redundant"]
    right = env.step(parse_action("[answer] Madison"))
    assert right.reward == 1.0 and right.done and right.info["success"] and right.info["judged_by"] == "f1"


def test_finish_reveals_the_answer_and_action_is_refused():
    env = _env()
    assert env.step(parse_action("[action] hello", env.spec.action_kind)).observation == search.NO_ACTION
    end = env.step(parse_action("[finish]"))
    assert end.done and end.reward == 0.0 and "james madison" in end.observation


def test_any_object_with_search_is_a_backend():
    class Fixed:
        def search(self, query, k):
            return [Passage("x", "Fixed", f"you asked {query}")][:k]

    result = _env(search=Fixed()).step(parse_action("[search] anything"))
    assert "1. Fixed: you asked anything" in result.observation


@needs_data
def test_bamboogle_is_test_only():
    env = make("search")
    tasks = env.tasks("test")
    assert len(tasks) == 125 and tasks[0].hidden["question"] in tasks[0].prompt[-1]["content"]
    with pytest.raises(DataError, match="test-only"):
        env.tasks("train")
    assert make("search").spec.splits == ("test",)


def test_llm_judge_runs_after_the_exact_match_only():
    pytest.importorskip("openai")
    from tests.llm_client.fake_server import FakeServer
    from tests.users.llm_server import fenced, llm_config, queued

    replies = queued(fenced({"reasoning": "r", "judgment": "No", "feedback": "f"}), "garbage",
                     fenced({"reasoning": "r", "judgment": "Yes", "feedback": "f"}))
    with FakeServer(replies) as server:
        env = _env(user="llm", llm=llm_config(server))
        no = env.step(parse_action("[answer] Madison"))
        broken = env.step(parse_action("[answer] President Madison"))
        yes = env.step(parse_action("[answer] the fourth president"))
    assert not no.done and not broken.done and no.reward == broken.reward == 0.0
    assert yes.done and yes.reward == 1.0 and yes.info["judged_by"] == "llm"
    assert server.requests[0]["messages"][0]["content"] == search.JUDGE_SYSTEM
    with FakeServer(queued()) as server:
        exact = _env(user="llm", llm=llm_config(server)).step(parse_action("[answer] James Madison"))
    assert exact.reward == 1.0 and exact.info["judged_by"] == "exact" and not server.requests


def test_search_lists_both_judge_backends():
    assert search.SearchEnv.spec.backends == ("offline", "llm")
