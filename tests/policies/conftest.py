"""Fixtures of the LLM-policy and rollout tests: a tiny random chat model built in-process (no download).

Modules that use them opt in with `pytestmark = pytest.mark.usefixtures("one_torch_thread")`, so that the
scripted-agent tests beside them never import torch.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def one_torch_thread():
    """Tiny models run fastest on one thread, and two threads spin badly when other jobs share the cores."""
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny():
    """(model, tokenizer) of the default tiny model; tests must not modify it."""
    pytest.importorskip("torch")
    from bao.policies.tiny import build_tiny_model

    return build_tiny_model()
