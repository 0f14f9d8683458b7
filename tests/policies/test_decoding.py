from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from bao.policies.decoding import DecodeBatch, _pick, sequence_logprobs  # noqa: E402
from bao.policies.sampling import SamplingConfig  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SAMPLED = SamplingConfig(temperature=0.7, top_p=0.9, max_new_tokens=12)
GREEDY = SamplingConfig(temperature=0.0, max_new_tokens=12)
PREFIX = list(range(10, 50))  # 40 shared tokens: long enough for the shared-prefix prefill


def play(model, prompts: dict[int, list[int]], sampling, rounds=3, limits=(12, 4, 7), drop_after=None, shared_min=None):
    """Decode `rounds` turns of every prompt, appending a short fake observation after each turn.

    Returns, per sequence, the whole id list and the recorded log-prob of every id (0.0 where not sampled).
    """
    batch = DecodeBatch(model, stop_ids=[2])
    if shared_min is not None:
        batch.SHARED_PREFIX_MIN = shared_min
    ids = {k: list(p) for k, p in prompts.items()}
    logprobs = {k: [0.0] * len(p) for k, p in prompts.items()}
    pending = dict(ids)
    for round_ in range(rounds):
        keys = list(pending)
        out = batch.generate(
            pending, {k: limits[k % len(limits)] for k in keys}, {k: 100 * round_ + k for k in keys}, sampling
        )
        pending = {}
        for k, gen in out.items():
            ids[k] += gen.ids
            logprobs[k] += gen.logprobs
            if drop_after is not None and k == drop_after[0] and round_ >= drop_after[1]:
                continue
            observation = [300 + round_, 301, 302][: 1 + (k + round_) % 3]
            ids[k] += observation
            logprobs[k] += [0.0] * len(observation)
            pending[k] = observation
    return ids, logprobs


def prompts():
    return {0: PREFIX + [5, 6, 7], 1: PREFIX + [9], 2: PREFIX + [3, 4, 5, 6, 7, 8, 9, 11]}


@pytest.mark.parametrize("sampling", [SAMPLED, GREEDY], ids=["sampled", "greedy"])
def test_recorded_logprobs_match_a_fresh_forward_pass_of_each_sequence(tiny, sampling):
    model, _ = tiny
    ids, logprobs = play(model, prompts(), sampling, drop_after=(1, 1))
    for k in ids:
        reference = sequence_logprobs(model, ids[k], sampling.temperature)
        sampled = [i for i, lp in enumerate(logprobs[k]) if lp != 0.0]
        assert sampled, "every sequence sampled tokens"
        assert max(abs(logprobs[k][i] - reference[i]) for i in sampled) < 1e-4


def test_a_sequence_decodes_the_same_alone_and_in_a_padded_batch(tiny):
    model, _ = tiny
    together, _ = play(model, prompts(), GREEDY)
    for k, prompt in prompts().items():
        alone, _ = play(model, {k: prompt}, GREEDY)
        assert alone[k] == together[k]


def test_shared_prompt_prefix_is_prefilled_once_with_the_same_result(tiny):
    model, _ = tiny
    shared, shared_lp = play(model, prompts(), GREEDY, shared_min=8)
    separate, separate_lp = play(model, prompts(), GREEDY, shared_min=10_000)
    assert shared == separate
    for k in shared:
        assert max(abs(a - b) for a, b in zip(shared_lp[k], separate_lp[k])) < 1e-4


def test_same_seeds_give_the_same_samples_and_other_seeds_do_not(tiny):
    model, _ = tiny
    first, _ = play(model, prompts(), SAMPLED)
    again, _ = play(model, prompts(), SAMPLED)
    assert first == again
    batch = DecodeBatch(model, stop_ids=[2])
    other = batch.generate({0: prompts()[0]}, {0: 12}, {0: 999}, SAMPLED)[0].ids
    assert other != first[0][len(prompts()[0]) : len(prompts()[0]) + 12]


def test_generation_stops_at_a_stop_token_and_at_the_limit(tiny):
    model, _ = tiny
    first = DecodeBatch(model, stop_ids=[]).generate({0: PREFIX}, {0: 5}, {0: 0}, GREEDY)[0]
    assert len(first.ids) == 5 and not first.stopped
    stopping = DecodeBatch(model, stop_ids=[first.ids[2]]).generate({0: PREFIX}, {0: 5}, {0: 0}, GREEDY)[0]
    assert stopping.ids == first.ids[: first.ids.index(first.ids[2]) + 1] and stopping.stopped


def test_dropped_sequences_cannot_come_back(tiny):
    model, _ = tiny
    batch = DecodeBatch(model, stop_ids=[2])
    batch.generate({0: PREFIX, 1: PREFIX}, {0: 2, 1: 2}, {0: 0, 1: 1}, GREEDY)
    batch.generate({0: [7]}, {0: 2}, {0: 0}, GREEDY)
    with pytest.raises(KeyError, match="new DecodeBatch"):
        batch.generate({1: [7]}, {1: 2}, {1: 0}, GREEDY)


def test_top_p_samples_only_from_the_nucleus():
    logits = torch.log(torch.tensor([[0.6, 0.3, 0.1]]))
    generators = [torch.Generator().manual_seed(s) for s in range(1)]
    for _ in range(50):
        tokens, logprobs = _pick(logits, SamplingConfig(temperature=1.0, top_p=0.5), generators)
        assert tokens == [0]
        assert logprobs[0] == pytest.approx(torch.log(torch.tensor(0.6)).item(), abs=1e-6)
    seen = {_pick(logits, SamplingConfig(temperature=1.0, top_p=0.95), generators)[0][0] for _ in range(200)}
    assert seen == {0, 1, 2}


@pytest.mark.parametrize("kwargs", [{"temperature": -1}, {"top_p": 0}, {"top_p": 1.5}, {"max_new_tokens": 0}])
def test_sampling_config_rejects_impossible_values(kwargs):
    with pytest.raises(ValueError):
        SamplingConfig(**kwargs)
