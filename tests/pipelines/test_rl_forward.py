"""The shared-prefix forward gives the same log-probs and gradients as one full forward per episode."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from bao.pipelines.rl_data import Row  # noqa: E402
from bao.pipelines.rl_forward import SharedPrefix, policy_logprobs, shared_prefix_length  # noqa: E402
from bao.policies.tiny import build_tiny_model  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _rows() -> list[Row]:
    prompt = list(range(5, 45))  # 40 shared tokens
    tails = [[50, 51, 52, 53, 54, 55], [60, 61, 62], [70, 71, 72, 73, 74, 75, 76, 77]]
    rows = []
    for tail in tails:
        ids = prompt + tail
        mask = [0] * len(prompt) + [0] + [1] * (len(tail) - 1)
        mask[len(prompt) + 3 if len(tail) > 4 else -1] = 0  # an observation token inside
        rows.append(Row(ids, mask, [0.0] * len(ids), [0.0] * len(ids), "g"))
    return rows


def test_shared_prefix_stops_before_the_first_policy_token():
    rows = _rows()
    assert shared_prefix_length(rows) == 40
    assert shared_prefix_length(rows, minimum=41) == 0
    assert shared_prefix_length(rows[:1]) == 0


def test_logprobs_and_gradients_match_a_full_forward():
    model, _ = build_tiny_model()
    model.train()
    rows = _rows()

    def grads(shared: bool):
        model.zero_grad()
        prefix = SharedPrefix(model, rows[0].ids[:40]) if shared else None
        out = []
        for chunk in (rows[:2], rows[2:]):
            logp, _ = policy_logprobs(model, chunk, 0.7, prefix)
            torch.cat(logp).sum().backward()
            out += [t.detach() for t in logp]
        if prefix is not None:
            prefix.backward()
        return out, {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}

    full, full_grads = grads(False)
    shared, shared_grads = grads(True)
    for a, b in zip(full, shared):
        assert torch.allclose(a, b, atol=1e-5)
    assert full_grads.keys() == shared_grads.keys()
    for name in full_grads:
        assert torch.allclose(full_grads[name], shared_grads[name], atol=1e-5, rtol=1e-4), name
