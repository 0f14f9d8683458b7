"""What `bao export verl` writes, verl's own dataset reads, and a row it yields plays in bao's agent loop."""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("verl")

from verl.utils.dataset.rl_dataset import RLHFDataset  # noqa: E402

from bao.agent.prompt import chat_messages  # noqa: E402
from bao.agent.render import render_tool_call  # noqa: E402
from bao.envs.registry import make  # noqa: E402
from bao.integrations.verl.export import export  # noqa: E402
from tests.conftest import needs_data  # noqa: E402

pytestmark = needs_data


def test_verls_dataset_reads_the_export_and_its_rows_play_in_the_agent_loop(tmp_path, compose, tokenizer,
                                                                             agent_loop):
    path = export("function", "train", tmp_path, seeds=[0, 7], n=2)
    config = compose("data.max_prompt_length=4096")
    dataset = RLHFDataset(data_files=[str(path)], tokenizer=tokenizer, config=config.data)
    assert len(dataset) == 4
    tasks = make("function").tasks("train")
    row = dataset[3]
    assert row["agent_name"] == "bao" and row["data_source"] == "bao/function"
    assert row["extra_info"] == {"index": 3, "env": "function", "split": "train", "task_id": tasks[1].id, "seed": 7}
    assert row["raw_prompt"] == chat_messages(tasks[1].prompt)
    answer = render_tool_call("answer", str(tasks[1].hidden["expected_result"]))
    loop, _ = agent_loop([tokenizer.encode(answer, add_special_tokens=False)], "data.max_prompt_length=4096")
    kwargs = {k: v for k, v in row.items() if k not in ("dummy_tensor", "agent_name")}
    out = asyncio.run(loop.run({"temperature": 1.0, "logprobs": False}, **kwargs))
    assert out.extra_fields["bao_stop_reason"] == "done" and out.extra_fields["reward_extra_info"]["success"] == 1.0


def test_prompts_longer_than_the_limit_are_filtered_by_verl(tmp_path, compose, tokenizer):
    path = export("function", "train", tmp_path, n=2)
    config = compose("data.max_prompt_length=64")
    assert len(RLHFDataset(data_files=[str(path)], tokenizer=tokenizer, config=config.data)) == 0
