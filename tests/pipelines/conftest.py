"""The training tests share the tiny-model fixtures of the policy tests, the clue env and its warm start."""

import pytest

from bao.envs import registry
from tests.pipelines.clue_env import ANSWER, ASK, first_turn
from tests.policies.conftest import one_torch_thread, tiny  # noqa: F401


@pytest.fixture
def clue_env(monkeypatch):
    """Registered only while a test runs, so that tests which list every env do not see it."""
    monkeypatch.setitem(registry._ENVS, "clue", "tests.pipelines.clue_env:ClueEnv")


@pytest.fixture(scope="session")
def warm_start(tmp_path_factory):
    """The tiny model fine-tuned to open with either move about equally often (the SFT stage, in miniature)."""
    import torch

    from bao.pipelines.sft import tokenize_example
    from bao.policies.tiny import build_tiny_model

    torch.manual_seed(0)
    model, tokenizer = build_tiny_model()
    prompt = first_turn()
    examples = [
        {"messages": [*prompt, {"role": "assistant", "content": ASK}, {"role": "tool", "content": "The number is 7."},
                      {"role": "assistant", "content": ANSWER}]},
        {"messages": [*prompt, {"role": "assistant", "content": ANSWER}]},
    ]
    rows = [tokenize_example(e, tokenizer, 4096) for e in examples]
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(80):
        for row in rows:
            ids = torch.tensor([row["input_ids"]])
            loss = model(input_ids=ids, labels=torch.tensor([row["labels"]])).loss
            loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    path = tmp_path_factory.mktemp("clue") / "warm"
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
