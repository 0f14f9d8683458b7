"""SearchGym's scripted agents over the offline BM25 corpus."""

from bao.envs import make
from bao.policies.scripted import make_agent
from bao.policies.scripted.search import bridge_query, candidates, names_in, typed_spans
from bao.rollout.episodes import run_episodes
from tests.conftest import needs_data


def test_names_keep_initials_and_suffixes_but_drop_sentence_stops():
    assert names_in("It was written by Paul R. Ehrlich.") == ["Paul R. Ehrlich"]  # "It" is a stopword
    assert "Charles Tupper Sr." in names_in("He was the son of Charles Tupper Sr., a minister.")
    assert names_in("the University of California was founded.") == ["University of California"]


def test_answer_spans_follow_the_question_type():
    text = "Walther Bothe was born on January 8, 1891, in Oranienburg, Germany; 847 people died in 1991."
    assert typed_spans("When was Walther Bothe born?", text) == ["January 8, 1891"]
    assert typed_spans("In what year did it erupt?", text) == ["1891", "1991"]
    assert "847" in typed_spans("How many people died?", text)
    assert typed_spans("Can people with celiac eat it? Yes", "so yes, they can") == ["Yes"]
    assert "Walther Bothe" not in typed_spans("Where was Walther Bothe born?", text)


def test_the_bridge_query_names_the_first_hop_and_the_bridge_is_not_an_answer():
    question = "When was the author of The Population Bomb born?"
    first = ("The Population Bomb", "The Population Bomb, published in 1968, was written by Paul R. Ehrlich.")
    assert bridge_query(question, first) == "Paul R. Ehrlich author born"
    second = [("Paul R. Ehrlich", "Paul R. Ehrlich, the American biologist, was born on May 29, 1932.")]
    assert candidates(question, [[first], second])[0] == "May 29, 1932"


@needs_data
def test_heuristic_answers_most_questions_and_the_oracle_all_in_one_turn():
    tasks = make("search").tasks("test")
    jobs = [(t, 0) for t in tasks]
    heuristic = run_episodes(lambda: make("search"), make_agent("heuristic", "search"), jobs)
    oracle = run_episodes(lambda: make("search"), make_agent("oracle", "search"), jobs)
    answer_now = run_episodes(lambda: make("search"), make_agent("answer-now", "search"), jobs)
    assert sum(t.success for t in heuristic) / len(tasks) >= 0.7
    assert all(t.success and t.n_turns == 1 for t in oracle)
    assert sum(t.success for t in answer_now) / len(tasks) < 0.05
    assert all(t.U <= 2 for t in heuristic)  # at most ANSWER_TRIES answers reach the user
