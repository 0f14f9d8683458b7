"""The clipped surrogate and the k3 KL, checked by hand."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from bao.algos.loss import clipped_surrogate, kl_k3  # noqa: E402


def test_at_ratio_one_the_loss_is_minus_the_advantage_and_nothing_is_clipped():
    logp = torch.tensor([-1.0, -2.0])
    loss, clipped = clipped_surrogate(logp, logp.clone(), torch.tensor([0.5, -2.0]), 0.2)
    assert loss.tolist() == [-0.5, 2.0]
    assert clipped.tolist() == [0.0, 0.0]


def test_a_ratio_past_the_clip_stops_the_gain_on_the_side_of_the_advantage():
    # ratio e^0.5 = 1.6487: A > 0 -> min gain: loss = -A * 1.2 (clipped); A < 0 -> -A * 1.6487 (not clipped)
    old = torch.tensor([0.0, 0.0])
    logp = torch.tensor([0.5, 0.5], requires_grad=True)
    loss, clipped = clipped_surrogate(logp, old, torch.tensor([1.0, -1.0]), 0.2)
    assert loss.tolist() == pytest.approx([-1.2, math.exp(0.5)])
    assert clipped.tolist() == [1.0, 0.0]
    loss.sum().backward()
    assert logp.grad.tolist() == pytest.approx([0.0, math.exp(0.5)])  # no gradient through the clipped token


def test_kl_k3_is_zero_at_equality_and_positive_elsewhere():
    assert kl_k3(torch.tensor([-1.0]), torch.tensor([-1.0])).item() == 0.0
    assert kl_k3(torch.tensor([-1.0]), torch.tensor([-2.0])).item() == pytest.approx(math.exp(-1) + 1 - 1)
