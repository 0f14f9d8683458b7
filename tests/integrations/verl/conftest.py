"""Fixtures of the verl plugin's tests: verl's config composed from examples/verl, and a scripted LLM server.

These tests run only where the `verl` extra is installed (`make test-verl`); every module here starts with
`pytest.importorskip("verl")`, so the main suite skips them. Nothing here imports verl at import time.
"""

from __future__ import annotations

from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "verl"
# What the launch scripts (examples/verl/run_*.sh) pass on the command line.
LAUNCH = ["actor_rollout_ref.model.path=Qwen/Qwen3-4B", "data.train_files=/data/train.parquet",
          "data.val_files=/data/test.parquet"]


@pytest.fixture
def compose():
    """compose(*overrides) -> verl's config of examples/verl/bao_qwen3_4b.yaml, as `verl.trainer.main_ppo` builds it."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    def build(*overrides: str):
        with initialize_config_dir(config_dir=str(EXAMPLES), version_base=None):
            return hydra_compose(config_name="bao_qwen3_4b", overrides=[*LAUNCH, *overrides])

    return build


@pytest.fixture(scope="session")
def tokenizer():
    """bao's tiny ChatML tokenizer (no download)."""
    from bao.policies.tiny import build_tokenizer

    return build_tokenizer()


class ScriptedServer:
    """verl's LLM server as the agent loop sees it (`generate`), answering with scripted turns.

    Like vLLM it never returns more than `sampling_params["max_tokens"]` tokens; every request is recorded.
    `versions[k]`, when given, is the weight version turn k was sampled with (verl's `extra_fields`), and
    `logprobs=False` makes it return none, as a backend that was not asked for them."""

    def __init__(self, turns: list[list[int]], versions: list[int] | None = None, logprobs: bool = True) -> None:
        self.turns = [list(t) for t in turns]
        self.versions = list(versions or [])
        self.logprobs = logprobs
        self.requests: list[tuple[list[int], dict]] = []

    async def generate(self, request_id, *, prompt_ids, sampling_params, **kwargs):
        from verl.workers.rollout.replica import TokenOutput

        self.requests.append((list(prompt_ids), dict(sampling_params)))
        ids = self.turns.pop(0)[: sampling_params["max_tokens"]]
        version = self.versions.pop(0) if self.versions else None
        fields = {} if version is None else {"min_global_steps": version, "max_global_steps": version}
        return TokenOutput(token_ids=ids, log_probs=[-0.5] * len(ids) if self.logprobs else None,
                           stop_reason="completed", extra_fields=fields)


@pytest.fixture
def agent_loop(compose, tokenizer):
    """agent_loop(turns, *overrides, **server_options) -> (bao's agent loop on a scripted server, the server)."""
    from verl.experimental.agent_loop.agent_loop import DictConfigWrap
    from verl.utils.dataset.rl_dataset import RLHFDataset

    from bao.integrations.verl.agent_loop import BaoAgentLoop

    def build(turns: list[list[int]], *overrides: str, tok=None, **server_options):
        config = compose(*overrides)
        server = ScriptedServer(turns, **server_options)
        loop = BaoAgentLoop(trainer_config=DictConfigWrap(config), server_manager=server, tokenizer=tok or tokenizer,
                            processor=None, dataset_cls=RLHFDataset, data_config=DictConfigWrap(config.data))
        return loop, server

    return build
