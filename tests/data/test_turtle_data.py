"""Turtle fact sheets: no question form asks the opposite of its fact.

The offline user answers every question matched to a fact with that fact's answer, so a form that negates its
fact ("Can the man see?" under "The man is blind.", answer yes) makes the user say "Yes." to a question whose
true answer is no, and the paraphrase probes would count that match as right.

The check reads the fact's statement and each question (forms and held-out paraphrases) against a small table
of antonyms. A term reads as its antonym when a negator stands right before it ("unable to see" = blind,
"didn't know" = unaware) or a failure word right after it ("vision problem"). A "yes" fact's questions must
read like its statement; a "no" fact's statement denies what its questions ask ("He was not insane." for "Was
he insane?"), so its questions must read like the statement with the denial taken out, unless the statement
has no negator at all, when it states the truth the questions contradict ("The brother was dead." for "Was
he alive?"). The check cannot see who a word is about or negation by meaning ("no point living"), so the few
forms it misreads are listed in `MISREAD` with the reason.
"""

from __future__ import annotations

import re
from functools import lru_cache

import pytest

from bao.users.knowledge import load_sheet, sheet_path

ANTONYMS = (
    ({"blind", "blindness", "sightless"}, {"see", "sees", "saw", "seen", "seeing", "sight", "eyesight", "vision"}),
    ({"dead", "died", "die", "dies", "dying", "death", "deceased"},
     {"alive", "living", "survive", "survived", "survives"}),
    ({"asleep", "sleeping"}, {"awake"}),
    ({"deaf"}, {"hear", "heard", "hearing", "hears"}),
    ({"mute"}, {"speak", "spoke", "talk", "talked", "speaks", "talks"}),
    ({"accident", "accidental", "accidentally"},
     {"deliberate", "deliberately", "intentional", "intentionally", "on purpose"}),
    ({"forget", "forgot", "forgotten"}, {"remember", "remembered", "remembers"}),
    ({"unaware", "unbeknownst", "unknowingly"}, {"knew", "know", "knows", "aware"}),
)
NEGATORS = {"not", "never", "no", "nobody", "none", "nothing", "neither", "nor", "without", "unable", "cannot",
            "lose", "lost", "loss", "lack", "lacked", "stop", "stopped", "barely", "hardly", "trouble", "poor"}
FAILURES = {"problem", "problems", "fail", "fails", "failed", "loss"}  # after the term: "eyesight fails"
# Skipped between a negator and its term: "didn't even know", "no longer alive", "loss of sight".
FILLERS = {"to", "be", "been", "even", "really", "ever", "fall", "have", "had", "get", "the", "a", "my", "his",
           "her", "their", "longer", "of"}
MISREAD = {
    ("130", "jumped_pointless", "Did she want to die?"): "'no point living' negates by meaning, not by a negator",
    ("75", "mermaid_survived", "Did his death save her?"): "his death, her survival: two people",
    ("307", "written_after", "Did the entry prove she wrote it after she 'died'?"):
        "the quoted 'died' is the supposed death the fact refutes",
}
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("\u2019", "'"))


def _negator(word: str) -> bool:
    return word in NEGATORS or word.endswith("n't")


def readings(text: str, pair: tuple[set[str], set[str]], negation: bool = True) -> set[int]:
    """The sides of `pair` (0 or 1) that the mentions of its terms in `text` assert, negation applied."""
    words = _words(text)
    joined = f" {' '.join(words)} "
    out = set()
    for side, terms in enumerate(pair):
        for term in (t.split() for t in terms if f" {t} " in joined):
            n = len(term)
            for i in range(len(words) - n + 1):
                if words[i : i + n] != term:
                    continue
                before = next((w for w in reversed(words[:i]) if w not in FILLERS), "")
                negated = _negator(before) or any(w in FAILURES for w in words[i + n : i + n + 2])
                out.add(side ^ (negation and negated))
    return out


def inverted(statement: str, answer: str, question: str) -> bool:
    """Whether `question`, matched to the fact (`statement`, `answer`), asks the opposite of what the fact's
    answer says."""
    denial = answer == "no" and any(_negator(w) for w in _words(statement))
    for pair in ANTONYMS:
        fact, asked = readings(statement, pair, negation=not denial), readings(question, pair)
        if len(fact) == 1 and len(asked) == 1 and (fact == asked) != (answer == "yes" or denial):
            return True
    return False


@lru_cache(maxsize=1)
def _facts() -> dict[tuple[str, str], dict]:
    return {(s["story_id"], f["id"]): f for name in ("sheets_test.json", "sheets_train.json")
            for s in load_sheet(sheet_path("turtle", name)) for f in s["facts"]}


def _questions() -> list[tuple[str, str, str]]:
    """(story id, fact id, question) for every question form and every held-out paraphrase with a fact."""
    out = [(story, fact, q) for (story, fact), f in _facts().items() for q in f["questions"]]
    for split in ("dev", "test", "heldout"):
        records = load_sheet(sheet_path("turtle", f"paraphrases_{split}.json"))
        out += [(r["story_id"], r["fact"], r["question"]) for r in records if r["fact"] is not None]
    return out


@lru_cache(maxsize=1)
def _flagged() -> tuple[tuple[str, str, str], ...]:
    facts = _facts()
    return tuple((s, f, q) for s, f, q in _questions()
                 if (s, f) in facts and inverted(facts[s, f]["statement"], facts[s, f]["answer"], q))


def test_no_question_asks_the_opposite_of_its_fact():
    facts = _facts()
    found = [f"story {s} fact {f} ({facts[s, f]['answer']}: {facts[s, f]['statement']}): {q}"
             for s, f, q in _flagged() if (s, f, q) not in MISREAD]
    assert not found, "\n".join(found)


def test_every_misread_form_exists_and_is_still_flagged():
    assert set(MISREAD) <= set(_flagged())


@pytest.mark.parametrize(("statement", "answer", "question", "expected"), [
    ("The man is blind.", "yes", "Can the man see?", True),
    ("The man is blind.", "yes", "Is the man unable to see?", False),
    ("The man is blind.", "yes", "Did he lose his eyesight?", False),
    ("He didn't know beforehand what each place would win.", "yes", "Did he know the prizes beforehand?", True),
    ("He didn't know beforehand what each place would win.", "yes", "Was he unaware of the prizes?", False),
    ("His wife was not actually dead.", "no", "Was his wife dead?", False),
    ("His wife was not actually dead.", "no", "Was his wife alive?", True),
    ("His wife was not actually dead.", "no", "Is his wife no longer alive?", False),
    ("The call was genuine; the brother really was dead.", "no", "Was the brother still alive?", False),
    ("The killer suffers from night blindness.", "yes", "Does the killer have a vision problem?", False),
])
def test_the_check_reads_negation_and_antonyms(statement, answer, question, expected):
    assert inverted(statement, answer, question) is expected
