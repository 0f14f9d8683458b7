import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bao.envs.telepathy import TelepathyEnv
from bao.envs.turtle import TurtleEnv
from bao.users.matcher import CheckedMatcher, Entry, LexicalMatcher, OneWordCheck, make_matcher
from bao.users.text import tokens

ENTRIES = [
    Entry("is_animal", ("Is it an animal?", "Is it a creature?", "Is it part of the animal kingdom?"),
          ("animal", "creature", "beast")),
    Entry("can_fly", ("Can it fly?", "Does it have wings?", "Does it travel through the sky?"), ("fly", "wings")),
    Entry("is_red", ("Is it red?", "Is its main color red?"), ("red", "crimson")),
    Entry("door_pushed", ("Did opening the door push the visitor off?", "Did the man knock him off the cliff?"),
          ("door", "push", "cliff")),
]


@pytest.fixture(scope="module")
def lexical() -> LexicalMatcher:
    return LexicalMatcher(ENTRIES)


@pytest.mark.parametrize("question, key", [
    ("Is it capable of flying?", "can_fly"),            # stemming: flying -> fly
    ("Is it a kind of beast?", "is_animal"),             # keyword only
    ("Is its colour red?", "is_red"),                    # British spelling
    ("Did the door shove the visitor over the cliff?", "door_pushed"),  # words of two forms pooled
])
def test_a_paraphrase_reaches_its_entry(lexical, question, key):
    match = lexical.match(question)
    assert match is not None and match.key == key


@pytest.mark.parametrize("question", ["What is the capital of France?", "", "???", "Is it?"])
def test_an_unrelated_question_reaches_no_entry(lexical, question):
    assert lexical.match(question) is None


def test_ranking_puts_the_asked_entry_first_then_by_falling_score(lexical):
    ranking = lexical.rank("Does the red bird have wings?")
    assert ranking[0][0] == "can_fly" and ranking[1][0] == "is_red"
    scores = [s for _, s in ranking]
    assert scores == sorted(scores, reverse=True) and scores[-1] == 0.0
    assert {k for k, _ in ranking} == {e.key for e in ENTRIES}


@given(st.text(max_size=80))
def test_scores_stay_between_0_and_1_for_any_text(text):
    ranking = LexicalMatcher(ENTRIES).rank(text)
    assert all(0.0 <= s <= 1.0 + 1e-9 for _, s in ranking)
    assert [s for _, s in ranking] == sorted((s for _, s in ranking), reverse=True)


@pytest.mark.parametrize("a, b", [
    ("strangled", "strangle"), ("stopping", "stopped"), ("bodies", "body"), ("agreed", "agree"),
    ("he fell", "did he fall"), ("colour", "color"), ("murdering", "killed"), ("pills", "medication"),
])
def test_inflections_spellings_and_synonyms_meet(a, b):
    assert tokens(a) == tokens(b)


def test_distinct_words_stay_distinct():
    assert len(set(tokens("need speed red bed bus gas"))) == 6


def test_make_matcher_builds_the_lexical_kind_without_torch():
    code = ("import sys; from bao.users.matcher import Entry, make_matcher; "
            "m = make_matcher([Entry('a', ('Is it red?',))], 'lexical'); "
            "assert m.match('Is it red?').key == 'a'; assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_make_matcher_keeps_a_given_threshold():
    question = "Is it a kind of beast?"
    assert make_matcher(ENTRIES, "lexical").match(question) is not None
    assert make_matcher(ENTRIES, "lexical", threshold=0.9).match(question) is None


@pytest.mark.parametrize("question", ["Was the door painted blue?", "Was the cliff very high?"])
def test_one_shared_story_word_is_not_enough_under_the_one_word_check(question):
    """An off-sheet question sharing one word with a fact matches it plainly, but not once checked."""
    plain = make_matcher(ENTRIES, "lexical")
    checked = make_matcher(ENTRIES, "lexical", check=OneWordCheck(0.46, 0.04))
    assert isinstance(checked, CheckedMatcher)
    assert plain.match(question) is not None and plain.match(question).key == "door_pushed"
    assert checked.match(question) is None and checked.match_many([question]) == [None]


@pytest.mark.parametrize("question, key", [
    ("Did the door shove the visitor over the cliff?", "door_pushed"),  # two shared words
    ("Is it red?", "is_red"),                                           # one word, but all of the question
])
def test_the_one_word_check_keeps_real_matches(question, key):
    checked = make_matcher(ENTRIES, "lexical", check=OneWordCheck(0.46, 0.04))
    assert checked.match(question).key == key
    assert checked.rank(question) == LexicalMatcher(ENTRIES).rank(question)


@pytest.mark.parametrize("env", [TelepathyEnv, TurtleEnv])
def test_an_unknown_matcher_kind_fails_when_the_env_is_built(env):
    with pytest.raises(ValueError, match="lexical, embedding, hybrid"):
        env(matcher="bert")
