import json
import math

import pytest

from bao.agent.parse import parse_action
from bao.core.types import Task
from bao.envs import make, telepathy, yes_no
from bao.envs.data import DataError
from bao.envs.telepathy import KnowledgeBase, is_correct_guess, load_knowledge_base
from bao.users.matcher import LexicalMatcher
from tests.conftest import needs_data


def _write_kb(folder, entities, attributes=None):
    attributes = attributes or [
        {"id": "is_animal", "question": "Is it an animal?", "forms": ["Is it a creature?"], "keywords": ["animal"]},
        {"id": "can_fly", "question": "Can it fly?", "forms": ["Does it fly?"], "keywords": ["fly", "flying"]},
    ]
    (folder / "attributes.json").write_text(json.dumps(attributes))
    (folder / "entities_x.json").write_text(json.dumps(entities))


def _entity(title, yes, maybe=(), aliases=()):
    return {"title": title, "split": "test", "category": "thing", "aliases": list(aliases), "yes": list(yes),
            "maybe": list(maybe)}


def _use_kb(monkeypatch, kb: KnowledgeBase) -> None:
    """Point the env at `kb` without touching the cached shipped knowledge base or its matcher."""
    monkeypatch.setattr(telepathy, "knowledge_base", lambda: kb)
    monkeypatch.setattr(telepathy, "attribute_matcher", lambda *a, **k: LexicalMatcher(
        [telepathy.Entry(x.id, (x.question, *x.forms), x.keywords) for x in kb.attributes]))


@pytest.fixture
def tiny_kb(tmp_path, monkeypatch) -> KnowledgeBase:
    _write_kb(tmp_path, [
        _entity("Eagle", ["is_animal", "can_fly"]),
        _entity("Dog", ["is_animal"], aliases=["hound"]),
        _entity("Plane", ["can_fly"]),
        _entity("Rock", []),
    ])
    kb = load_knowledge_base(tmp_path)
    _use_kb(monkeypatch, kb)
    return kb


def _episode(title):
    env = make("telepathy")
    env.reset(Task("t", "telepathy", "test", [{"role": "user", "content": "go"}], {"title": title}), seed=0)
    return env


def test_information_gain_is_exact_over_the_entity_pool(tiny_kb):
    env = _episode("Dog")
    first = env.step(parse_action("[action] Is it an animal?"))
    assert first.observation == "Yes."
    assert first.info["info_gain_bits"] == pytest.approx(1.0)  # 4 -> 2 (Eagle, Dog)
    assert first.info["revealed"] == ["is_animal"] and not first.info["redundant"]
    second = env.step(parse_action("[action] Can it fly?"))
    assert second.observation == "No."
    assert second.info["info_gain_bits"] == pytest.approx(1.0)  # 2 -> 1
    again = env.step(parse_action("[action] Does it fly?"))
    assert again.info["info_gain_bits"] == 0.0 and again.info["redundant"] and again.info["revealed"] == []


def test_a_question_whose_answer_is_implied_is_redundant(tiny_kb):
    env = _episode("Rock")
    env.step(parse_action("[action] Is it Eagle?"))     # No: 4 -> 3
    env.step(parse_action("[action] Is it Plane?"))     # No: 3 -> 2 (Dog, Rock)
    result = env.step(parse_action("[action] Can it fly?"))  # neither flies: nothing to learn
    assert result.observation == "No." and result.info["redundant"]


def test_maybe_entities_stay_possible(tmp_path, monkeypatch):
    _write_kb(tmp_path, [_entity("Bat", ["is_animal"], maybe=["can_fly"]), _entity("Cat", ["is_animal"]),
                         _entity("Kite", ["can_fly"])])
    _use_kb(monkeypatch, load_knowledge_base(tmp_path))
    env = _episode("Kite")
    result = env.step(parse_action("[action] Can it fly?"))
    assert result.info["hypotheses_left"] == 2  # Kite and the maybe-flying Bat
    assert result.info["info_gain_bits"] == pytest.approx(math.log2(3 / 2))


def test_unmatched_question_reveals_nothing(tiny_kb):
    env = _episode("Dog")
    result = env.step(parse_action("[action] What is your favourite colour?"))
    assert result.observation == telepathy.CANNOT_ANSWER and result.info["redundant"]


def test_guess_by_alias_wins_and_ends_the_episode(tiny_kb):
    env = _episode("Dog")
    wrong = env.step(parse_action("[answer] Eagle"))
    assert wrong.reward == 0.0 and not wrong.done
    right = env.step(parse_action("[answer] a Hound"))
    assert right.reward == 1.0 and right.done and right.info["success"]


def test_guess_matching_is_normalised_but_not_loose(tiny_kb):
    dog = tiny_kb.entity("Dog")
    assert is_correct_guess("THE dog!", dog)
    assert is_correct_guess("It is the dog", dog)
    assert not is_correct_guess("a dog that lives with a family in the city", dog)
    assert not is_correct_guess("hot dog sausage", tiny_kb.entity("Rock"))


def test_bad_knowledge_base_files_name_file_and_field(tmp_path):
    _write_kb(tmp_path, [_entity("Eagle", ["is_animal", "swims"])])
    unknown = r"entities_x.json entity 0 \(Eagle\): field 'yes'/'maybe' names unknown attributes \['swims'\]"
    with pytest.raises(DataError, match=unknown):
        load_knowledge_base(tmp_path)
    _write_kb(tmp_path, [{"title": "Eagle", "split": "test", "category": "x", "yes": [], "maybe": []}])
    with pytest.raises(DataError, match=r"entity 0 \(Eagle\): missing field 'aliases'"):
        load_knowledge_base(tmp_path)
    _write_kb(tmp_path, [_entity("Eagle", [])], attributes=[{"id": "x", "question": "q", "forms": [], "keywords": []}])
    with pytest.raises(DataError, match=r"attributes.json attribute 0: field 'forms'"):
        load_knowledge_base(tmp_path)


def test_shipped_knowledge_base_covers_the_test_split_and_150_train_entities():
    kb = load_knowledge_base()
    assert len(kb.attributes) >= 25
    assert sum(e.split == "train" for e in kb.entities) >= 150
    for entity in kb.entities:
        assert set(entity.values) == {a.id for a in kb.attributes}


@needs_data
def test_every_test_task_has_a_knowledge_base_entry():
    assert len(make("telepathy").tasks("test")) == 41
    assert len(make("telepathy").tasks("train")) >= 150


# --- the LLM user (UserRL's mode), against a local fake endpoint ---

def _llm_env(server):
    from tests.users.llm_server import llm_config

    env = make("telepathy", user="llm", llm=llm_config(server))
    task = env.tasks("test")[0]
    env.reset(task, seed=1)
    return env, task.hidden["title"]


@needs_data
def test_llm_user_answers_about_userrls_target_entity_and_repeats_are_redundant():
    pytest.importorskip("openai")
    from tests.llm_client.fake_server import FakeServer
    from tests.users.llm_server import fenced, queued

    with FakeServer(queued(fenced({"response": "No"}), fenced({"response": "No"}), "nothing")) as server:
        env, title = _llm_env(server)
        no = env.step(parse_action("[action] Is it an animal?"))
        again = env.step(parse_action("[action] Is it an animal??"))
        broken = env.step(parse_action("[action] Is it red?"))
    assert (no.observation, no.info["redundant"], no.info["info_gain_bits"]) == ("No.", False, None)
    assert again.info["redundant"]
    assert broken.observation == yes_no.ANSWER_FALLBACK and broken.info["redundant"]
    assert telepathy.target_descriptions()[title] in server.requests[0]["messages"][1]["content"]
    assert [r["seed"] for r in server.requests] == [1001, 1002, 1003]


@needs_data
def test_llm_judge_rules_guesses_without_partial_credit_and_never_leaks_the_answer():
    pytest.importorskip("openai")
    from tests.llm_client.fake_server import FakeServer
    from tests.users.llm_server import fenced, queued

    replies = queued(fenced({"judgment": "No", "feedback": "It was THE SECRET"}), "{}",
                     fenced({"judgment": "Yes"}))
    with FakeServer(replies) as server:
        env, title = _llm_env(server)
        wrong = env.step(parse_action("[answer] a teapot"))
        unparsable = env.step(parse_action("[answer] a kettle"))
        right = env.step(parse_action(f"[answer] {title}"))
    assert wrong.reward == 0.0 and not wrong.done and "SECRET" not in wrong.observation
    assert title not in wrong.observation
    assert unparsable.observation == telepathy.JUDGE_FALLBACK and unparsable.reward == 0.0
    assert right.reward == 1.0 and right.done and right.info["success"]
    assert server.requests[0]["messages"][0]["content"] == telepathy.JUDGE_SYSTEM


def test_telepathy_lists_both_user_backends():
    assert telepathy.TelepathyEnv.spec.backends == ("offline", "llm")
