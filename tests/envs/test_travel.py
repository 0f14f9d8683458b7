import json
import math

import pytest

from bao.agent.parse import parse_action
from bao.core.types import Task
from bao.envs import make, travel
from bao.envs.data import DataError
from bao.envs.travel import NO_PREFERENCE, TOO_VAGUE, Filter, parse_search, understand
from bao.envs.travel_tasks import POOL_SIZE, catalogue, generate, load_catalogue, preferences_of, task_pool
from bao.pipelines.evaluate import EvalConfig, evaluate
from bao.policies.scripted import make_agent
from bao.policies.scripted.travel import worded
from bao.rollout.episodes import run_episodes
from bao.users.knowledge import sheet_path

HOTEL_DEFAULTS = {"stars": 3, "rating": 8.0, "distance": 2.0, "breakfast": False, "pool": False, "gym": False,
                  "parking": False, "pets": False, "cancellation": False}
CAR_DEFAULTS = {"category": "compact", "seats": 5, "transmission": "automatic", "fuel": "gasoline",
                "company": "Drivo", "insurance": False, "mileage": False, "gps": False}


def _hotel(i, price, **attrs):
    return {"id": f"H{i}", **HOTEL_DEFAULTS, **attrs, "price": price}


def _car(i, price, **attrs):
    return {"id": f"C{i}", **CAR_DEFAULTS, **attrs, "price": price}


# Preferences: hotel stars >= 4 and breakfast; rental car automatic (CAR_DEFAULTS meet it).
HOTELS = [_hotel(1, 300, stars=4), _hotel(2, 400, breakfast=True), _hotel(3, 500, stars=4, breakfast=True),
          _hotel(4, 600, stars=5, breakfast=True)]
CARS = [_car(1, 200, transmission="manual"), _car(2, 250)]
TASK = Task("hand", "travel", "test", [{"role": "user", "content": "I need a hotel and a rental car."}], {
    "aspects": ["hotel", "rental_car"],
    "options": {"hotel": HOTELS, "rental_car": CARS},
    "preferences": [{"aspect": "hotel", "attribute": "stars", "value": 4},
                    {"aspect": "hotel", "attribute": "breakfast", "value": True},
                    {"aspect": "rental_car", "attribute": "transmission", "value": "automatic"}],
    "best": {"hotel": "H3", "rental_car": "C2"},
    "correct": {"hotel": ["H3", "H4"], "rental_car": ["C2"]},
})


def _env(**kwargs):
    env = make("travel", **kwargs)
    env.reset(TASK, seed=0)
    return env


def _do(env, text):
    return env.step(parse_action(text))


def test_pools_have_a_fixed_size_and_generation_is_stable():
    assert [len(task_pool(s)) for s in ("train", "test")] == [POOL_SIZE["train"], POOL_SIZE["test"]]
    assert generate("test", 7) == generate("test", 7) == task_pool("test")[7]
    assert len({t.id for t in task_pool("train") + task_pool("test")}) == POOL_SIZE["train"] + POOL_SIZE["test"]


def test_every_preference_matters_the_best_option_is_the_cheapest_that_meets_all():
    cat = catalogue()
    for task in task_pool("test"):
        for aspect in task.hidden["aspects"]:
            options = task.hidden["options"][aspect]
            attributes = cat.aspects[aspect].attributes
            rules = [(attributes[p.attribute], p.value) for p in preferences_of(task) if p.aspect == aspect]
            assert 2 <= len(rules) <= 4 and 8 <= len(options) <= 15
            meets = [o for o in options if all(r.satisfies(o[r.name], v) for r, v in rules)]
            best = min(meets, key=lambda o: o["price"])
            assert best["id"] == task.hidden["best"][aspect]
            assert sorted(task.hidden["correct"][aspect]) == sorted(o["id"] for o in meets)
            for rule, value in rules:  # a cheaper option that misses only this preference
                assert any(o["price"] < best["price"] and not rule.satisfies(o[rule.name], value)
                           and all(r.satisfies(o[r.name], v) for r, v in rules if r is not rule) for o in options)


def test_answers_score_best_correct_and_wrong_one_choice_per_aspect():
    env = _env()
    assert _do(env, "[answer] H4").reward == 0.8
    again = _do(env, "[answer] H3")
    assert again.reward == 0.0 and "only one option per travel aspect" in again.observation
    wrong = _do(env, "[answer] C1")
    assert wrong.reward == 0.0 and wrong.info["outcome"] == "wrong"
    assert wrong.done and not wrong.info["success"]  # every aspect has a choice
    assert wrong.info["score"] == pytest.approx(0.4)


def test_best_choices_everywhere_are_a_success_with_score_one():
    env = _env()
    first = _do(env, "[answer] H3")
    assert first.reward == 1.0 and not first.done and first.info["score"] == 0.5
    last = _do(env, "[answer] C2")
    assert last.done and last.info["success"] and last.info["score"] == 1.0


def test_malformed_or_foreign_answers_are_refused_without_using_a_choice():
    env = _env()
    assert "exactly one" in _do(env, "[answer] H3, H4").observation
    assert "Invalid option ID" in _do(env, "[answer] hotel three").observation
    assert "no flight in this trip" in _do(env, "[answer] F1").observation
    assert _do(env, "[answer] H3").reward == 1.0


def test_asking_about_a_preference_reveals_it_with_exact_information_gain():
    env = _env(preference_reward=0.6)
    stars = _do(env, "[action] How many stars should the hotel have?")
    assert stars.reward == 0.6 and stars.info["revealed"] == ["hotel.stars"] and not stars.info["redundant"]
    assert "4" in stars.observation
    assert stars.info["info_gain_bits"] == pytest.approx(math.log2(4 / 3))  # H2 ruled out
    breakfast = _do(env, "[action] Would you like breakfast included at the hotel?")
    assert breakfast.info["info_gain_bits"] == pytest.approx(math.log2(3 / 2))  # H1 ruled out
    assert breakfast.info["hypotheses_left"] == 2 * 2


def test_questions_that_reveal_nothing_are_redundant():
    env = _env()
    _do(env, "[action] How many stars should the hotel have?")
    for text in ("[action] What hotel class are you looking for?", "[action] Do you need a gym at the hotel?",
                 "[action] Any preferences for the hotel?", "[action] Lovely weather today!",
                 "[action] What is your budget for the hotel?", "[action] How many stops can the flight have?"):
        result = _do(env, text)
        assert result.info["redundant"] and result.reward == 0.0 and result.info["info_gain_bits"] == 0.0, text
    assert _do(env, "[action] Do you need a gym at the hotel?").observation == NO_PREFERENCE
    assert _do(env, "[action] Any preferences for the hotel?").observation == TOO_VAGUE


def test_answering_an_aspect_drops_its_remaining_preferences():
    env = _env()
    _do(env, "[answer] H4")
    result = _do(env, "[action] Would you like breakfast included at the hotel?")
    assert result.info["revealed"] == [] and "already settled" in result.observation


def test_search_filters_options_in_text_and_json_forms():
    cat = catalogue()
    text = parse_search("hotel stars>=4 breakfast price<=550 city=Rome", cat)
    as_json = parse_search(json.dumps({"function_name": "hotel", "arguments": {"stars": 4, "breakfast": True,
                                                                               "price": 550, "city": "Rome"}}), cat)
    expected = {Filter("stars", ">=", (4.0,)), Filter("breakfast", "=", (True,)), Filter("price", "<=", (550.0,))}
    assert set(text.filters) == set(as_json.filters) == expected
    assert as_json.ignored == ("city",) and text.ignored == ("city",)
    env = _env()
    found = _do(env, "[search] hotel stars>=4 breakfast price<=550")
    assert found.info["results"] == 1 and '"id": "H3"' in found.observation
    any_of = parse_search("rental car transmission=manual,automatic seats>=5", cat).filters[0]
    assert any_of.values == ("manual", "automatic")
    assert "needs a number" in parse_search("hotel stars>=many", cat)
    assert "takes one of" in parse_search("rental_car fuel=steam", cat)
    assert "Name one travel aspect" in parse_search("something nice", cat)


def test_search_reward_is_paid_once_per_aspect_and_only_for_the_trip():
    env = _env(search_reward=0.2)
    assert _do(env, "[search] hotel").reward == 0.2
    assert _do(env, "[search] hotel pool").reward == 0.0
    outside = _do(env, "[search] flight")
    assert outside.reward == 0.0 and "not related to this trip" in outside.observation


def test_a_question_resolves_its_aspect_by_name_then_by_context():
    trip = ["hotel", "restaurant"]
    assert understand("What rating should the restaurant have?", trip, "hotel").key == "restaurant.rating"
    assert understand("What's the lowest review score you'd accept?", trip, "hotel").key == "hotel.rating"
    assert understand("What's the lowest review score you'd accept?", trip, "restaurant").key == "restaurant.rating"


def test_a_reference_aspect_is_not_the_subject_of_the_question():
    trip = ["hotel", "restaurant"]
    assert understand("How far from your hotel should the restaurant be?", trip, None).key == "restaurant.distance"
    assert understand("Should the hotel be close to the restaurant?", trip, None).key == "hotel.distance"


def test_every_catalogue_question_form_reaches_its_own_attribute():
    cat = catalogue()
    for aspect in cat.aspects.values():
        for attribute in aspect.attributes.values():
            for form in attribute.forms:
                question = worded(aspect.name, form)
                for trip in ([aspect.name], list(cat.aspects)):
                    assert understand(question, trip, None).key == f"{aspect.name}.{attribute.name}", question


def test_a_malformed_catalogue_names_the_file_and_field(tmp_path):
    raw = json.loads(sheet_path("travel", "catalogue.json").read_text())
    raw["aspects"]["hotel"]["attributes"]["stars"]["kind"] = "stars"
    path = tmp_path / "catalogue.json"
    path.write_text(json.dumps(raw))
    with pytest.raises(DataError, match=r"catalogue.json aspect 'hotel' attribute 'stars': field 'kind'"):
        load_catalogue(path)
    raw["aspects"]["hotel"]["attributes"]["stars"] = {"kind": "number", "better": "higher", "values": [1, 5, 1],
                                                      "thresholds": [9], "text": "t", "forms": ["f"],
                                                      "keywords": ["k"], "replies": ["r"]}
    path.write_text(json.dumps(raw))
    with pytest.raises(DataError, match=r"attribute 'stars': field 'thresholds'"):
        load_catalogue(path)


def test_matcher_accuracy_on_the_paraphrase_sets():
    assert travel.paraphrase_accuracy().rate >= 0.9
    assert travel.paraphrase_accuracy("paraphrases_heldout.json").rate >= 0.85


def test_two_evaluation_runs_write_identical_trajectory_files(tmp_path):
    for run in ("a", "b"):
        evaluate(EvalConfig(env="travel", n=5, seeds=(3,)), make_agent("random", "travel"), tmp_path / run)
    assert (tmp_path / "a" / "trajectories.jsonl").read_bytes() == (tmp_path / "b" / "trajectories.jsonl").read_bytes()


def test_oracle_recommends_the_best_at_once_and_heuristic_beats_answer_now():
    tasks = make("travel").tasks("test")[:12]
    jobs = [(t, 0) for t in tasks]
    runs = {name: run_episodes(lambda: make("travel"), make_agent(name, "travel"), jobs)
            for name in ("oracle", "heuristic", "answer-now")}
    assert all(t.success for t in runs["oracle"])
    assert [t.U_userrl for t in runs["oracle"]] == [len(t.hidden["aspects"]) for t in tasks]
    score = {name: sum(t.turns[-1].info["score"] for t in trajs) / len(trajs) for name, trajs in runs.items()}
    assert score["heuristic"] > score["answer-now"] + 0.15


# --- the LLM user and utterance judge (UserRL's mode), against a local fake endpoint ---

def _llm_travel(server):
    from tests.users.llm_server import llm_config

    return _env(user="llm", llm=llm_config(server))


def _by_prompt(**replies):
    """Replies by system prompt: judge, reveal, neutral (the name of the travel prompt constant, lowercased)."""
    from tests.llm_client.fake_server import completion

    systems = {travel.JUDGE_SYSTEM: "judge", travel.REVEAL_SYSTEM: "reveal", travel.NEUTRAL_SYSTEM: "neutral"}
    return lambda request: completion(replies[systems[request["messages"][0]["content"]]])


def test_llm_judge_type_2_reveals_the_named_preference_with_reward_and_gain():
    pytest.importorskip("openai")
    from tests.llm_client.fake_server import FakeServer
    from tests.users.llm_server import fenced

    replies = _by_prompt(judge=fenced({"type": "2", "preference_id": "hotel.stars"}),
                         reveal=fenced({"response": "Budget places have burnt me; four stars at least."}))
    with FakeServer(replies) as server:
        env = _llm_travel(server)
        result = _do(env, "[action] How many stars should the hotel have?")
        judge_prompt = server.requests[0]["messages"][1]["content"]
        reveal_prompt = server.requests[1]["messages"][1]["content"]
    assert result.observation == "Budget places have burnt me; four stars at least."
    assert result.reward == pytest.approx(travel.PREFERENCE_REWARD) and result.info["revealed"] == ["hotel.stars"]
    assert result.info["info_gain_bits"] == pytest.approx(math.log2(4 / 3)) and not result.info["redundant"]
    assert "- id hotel.stars: hotel: hotel class in stars (1-5) at least 4" in judge_prompt
    assert "- id rental_car.transmission:" in judge_prompt
    assert "Suggested sentence:" in reveal_prompt and "hotel class in stars (1-5) at least 4" in reveal_prompt
    assert "hotel.stars" not in env.hidden


def test_llm_judge_types_3_and_4_get_the_fixed_replies_and_type_1_a_neutral_one():
    pytest.importorskip("openai")
    from tests.llm_client.fake_server import FakeServer
    from tests.users.llm_server import fenced, queued

    replies = queued(fenced({"type": "3"}), fenced({"type": "4"}), fenced({"type": "1"}),
                     fenced({"response": "Sure, sounds fine."}), fenced({"type": "2", "preference_id": "hotel.gym"}),
                     fenced({"response": "Fine."}))
    with FakeServer(replies) as server:
        env = _llm_travel(server)
        unknown = _do(env, "[action] Which hotel chain do you like?")
        vague = _do(env, "[action] Any preferences?")
        chat = _do(env, "[action] Tokyo is lovely in spring!")
        not_held = _do(env, "[action] Do you need a gym?")
    assert (unknown.observation, vague.observation) == (NO_PREFERENCE, TOO_VAGUE)
    assert chat.observation == "Sure, sounds fine." and chat.info["message_type"] == 1
    assert not_held.info["message_type"] == 1  # an id the user does not hold counts as small talk (UserRL)
    assert all(r.info["redundant"] and r.reward == 0.0 and r.info["revealed"] == []
               for r in (unknown, vague, chat, not_held))


def test_an_unparsable_reveal_is_a_canned_apology_that_reveals_nothing():
    pytest.importorskip("openai")
    from tests.llm_client.fake_server import FakeServer
    from tests.users.llm_server import fenced

    replies = _by_prompt(judge=fenced({"type": "2", "preference_id": "hotel.breakfast"}), reveal="no json")
    with FakeServer(replies) as server:
        env = _llm_travel(server)
        result = _do(env, "[action] Do you want breakfast included?")
    assert result.observation == travel.REPLY_FALLBACK and result.reward == 0.0 and result.info["revealed"] == []
    assert "hotel.breakfast" in env.hidden


def test_search_and_answers_stay_deterministic_with_the_llm_user():
    pytest.importorskip("openai")
    from tests.llm_client.fake_server import FakeServer
    from tests.users.llm_server import queued

    with FakeServer(queued()) as server:
        env = _llm_travel(server)
        found = _do(env, "[search] hotel stars>=4 breakfast")
        best = _do(env, "[answer] H3")
    assert found.info["results"] == 2 and best.reward == 1.0 and server.requests == []
