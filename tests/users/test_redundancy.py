import pytest

from bao.users.redundancy import is_non_answer, is_redundant, overlap


def test_a_first_question_with_a_real_answer_is_not_redundant():
    assert not is_redundant("Is it an animal?", [], "Yes.")


def test_a_near_duplicate_of_an_earlier_question_is_redundant_whatever_the_reply():
    earlier = [("Is it alive?", "Yes.")]
    assert is_redundant("Is it a living thing?", earlier, "No.")
    assert is_redundant("is it ALIVE", earlier, "Yes.")


def test_a_different_question_with_the_same_yes_is_not_redundant():
    assert not is_redundant("Is it a mammal?", [("Is it an animal?", "Yes.")], "Yes.")


def test_a_rephrasing_that_gets_the_same_reply_is_redundant():
    earlier = [("Did the man die in the desert?", "Yes.")]
    assert overlap("Did the man die in the hot desert sand?", earlier[0][0]) >= 0.5
    assert is_redundant("Did the man die in the hot desert sand?", earlier, "Yes.")
    assert not is_redundant("Did the man die in the hot desert sand?", earlier, "No.")


@pytest.mark.parametrize("reply", ["Maybe.", "maybe", "I don't know.", "That doesn't matter to the story.",
                                   "I don't have a particular preference there.", "Your question is too vague.",
                                   "I can't answer that right now. Please ask again."])
def test_non_answers_reveal_nothing(reply):
    assert is_non_answer(reply)
    assert is_redundant("Was it raining?", [], reply)


@pytest.mark.parametrize("reply", ["Yes.", "No.", "Maybe a beach hotel would be nice, with a pool.",
                                   "I'm not sure about the date yet, but I definitely need a hotel with at least "
                                   "four stars and breakfast, close to the old town and the station."])
def test_answers_that_say_something_are_not_non_answers(reply):
    assert not is_non_answer(reply)


def test_questions_without_content_words_repeat_each_other():
    assert is_redundant("Is it?", [("Is it?", "Maybe")], "Yes.")
