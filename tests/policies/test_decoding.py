from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from bao.policies.decoding import DecodeBatch, _pick, sequence_logprobs  # noqa: E402
from bao.policies.sampling import SamplingConfig  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SAMPLED = SamplingConfig(temperature=0.7, top_p=0.9, max_new_tokens=12)
GREEDY = SamplingConfig(temperature=0.0, max_new_tokens=12)
PREFIX = list(range(10, 50))  # 40 shared tokens: long enough for the shared-prefix prefill
OTHER = list(range(60, 100))  # another 40, shared by sequences that join late


class CountingModel:
    """A model that counts the positions (rows x width) its forward passes read."""

    def __init__(self, model) -> None:
        self.model = model
        self.positions = 0

    def parameters(self):
        return self.model.parameters()

    def __call__(self, **kwargs):
        self.positions += kwargs["input_ids"].numel()
        return self.model(**kwargs)


def play(model, schedule: dict[int, tuple[list[int], int, int]], sampling, limits=(12, 4, 7), shared_min=None):
    """Decode sequences that join and leave: `schedule[k] = (prompt, first round, turns)`. After every turn but
    its last, a sequence reads a short fake observation; seeds and observations depend on the sequence's own
    turn, not on the round, so that a sequence can be replayed alone.

    Returns, per sequence, the whole id list and the recorded log-prob of every id (0.0 where not sampled).
    """
    batch = DecodeBatch(model, stop_ids=[2])
    if shared_min is not None:
        batch.SHARED_PREFIX_MIN = shared_min
    ids, logprobs, pending = {}, {}, {}
    for round_ in range(max(first + turns for _, first, turns in schedule.values())):
        for k, (prompt, first, _) in schedule.items():
            if first == round_:
                ids[k], logprobs[k], pending[k] = list(prompt), [0.0] * len(prompt), list(prompt)
        turn = {k: round_ - schedule[k][1] for k in pending}
        out = batch.generate(
            pending, {k: limits[k % len(limits)] for k in pending}, {k: 100 * turn[k] + k for k in pending}, sampling
        )
        pending = {}
        for k, gen in out.items():
            ids[k] += gen.ids
            logprobs[k] += gen.logprobs
            if turn[k] + 1 < schedule[k][2]:
                observation = [300 + turn[k], 301, 302][: 1 + (k + turn[k]) % 3]
                ids[k] += observation
                logprobs[k] += [0.0] * len(observation)
                pending[k] = observation
    return ids, logprobs


def prompts():
    return {0: PREFIX + [5, 6, 7], 1: PREFIX + [9], 2: PREFIX + [3, 4, 5, 6, 7, 8, 9, 11]}


def together():
    """Three sequences from the first round; the second leaves a turn early."""
    return {k: (prompt, 0, 2 if k == 1 else 3) for k, prompt in prompts().items()}


def staggered():
    """Sequences joining a batch under way: 3 copies PREFIX from a row that goes on, 5 from rows that leave in
    that very round, and 6 and 7 share OTHER, which no row holds, so it is prefilled once for both."""
    start = {k: (prompt, 0, 1 + k) for k, prompt in prompts().items()}
    late = {3: (PREFIX + [8, 8], 1, 2), 4: ([7, 7, 7], 2, 1), 5: (PREFIX + [4], 3, 2), 6: (OTHER + [1], 3, 2),
            7: (OTHER + [2, 3], 3, 1)}
    return start | late


@pytest.mark.parametrize("schedule", [together, staggered])
@pytest.mark.parametrize("sampling", [SAMPLED, GREEDY], ids=["sampled", "greedy"])
def test_recorded_logprobs_match_a_fresh_forward_pass_of_each_sequence(tiny, sampling, schedule):
    model, _ = tiny
    ids, logprobs = play(model, schedule(), sampling)
    for k in ids:
        reference = sequence_logprobs(model, ids[k], sampling.temperature)
        sampled = [i for i, lp in enumerate(logprobs[k]) if lp != 0.0]
        assert sampled, "every sequence sampled tokens"
        assert max(abs(logprobs[k][i] - reference[i]) for i in sampled) < 1e-4


@pytest.mark.parametrize("schedule", [together, staggered])
@pytest.mark.parametrize("sampling", [SAMPLED, GREEDY], ids=["sampled", "greedy"])
def test_a_sequence_decodes_the_same_alone_and_in_a_padded_batch(tiny, sampling, schedule):
    model, _ = tiny
    batched, _ = play(model, schedule(), sampling)
    for k, (prompt, _, turns) in schedule().items():
        alone, _ = play(model, {k: (prompt, 0, turns)}, sampling)
        assert alone[k] == batched[k]


def test_shared_prompt_prefix_is_prefilled_once_or_copied_with_the_same_result(tiny):
    model, _ = tiny
    shared_model, separate_model = CountingModel(model), CountingModel(model)
    shared, shared_lp = play(shared_model, staggered(), GREEDY, shared_min=8)
    separate, separate_lp = play(separate_model, staggered(), GREEDY, shared_min=10_000)
    assert shared == separate
    for k in shared:
        assert max(abs(a - b) for a, b in zip(shared_lp[k], separate_lp[k])) < 1e-4
    # Rounds 1 and 3 read one padded block each instead of a 40-token prompt for every row.
    assert shared_model.positions < separate_model.positions - 100


def test_same_seeds_give_the_same_samples_and_other_seeds_do_not(tiny):
    model, _ = tiny
    first, _ = play(model, together(), SAMPLED)
    again, _ = play(model, together(), SAMPLED)
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
    with pytest.raises(KeyError, match="dropped"):
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
