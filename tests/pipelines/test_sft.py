import json
import signal
import subprocess
import sys
import time

import pytest

from bao.agent.prompt import IM_END, chat_messages, render_chatml
from bao.agent.render import render_tool_call
from bao.agent.wire import TOOL_SCHEMA
from bao.pipelines.sft import IGNORE, MARKER, collate, prepare_resume, tokenize_example
from bao.pipelines.teacher_data import write_examples
from tests.conftest import needs_data

pytest.importorskip("torch")
pytest.importorskip("transformers")

from bao.policies.tiny import build_tokenizer, save_tiny_model

ASSISTANT = [render_tool_call("search", "test", "Known: nothing yet"), render_tool_call("answer", "225")]


def _example() -> dict:
    messages = [
        {"role": "system", "content": "You play FunctionGym."},
        {"role": "user", "content": "Begin."},
        {"role": "assistant", "content": ASSISTANT[0]},
        {"role": "tool", "content": "Test case: [5, 7, 2, 9]"},
        {"role": "assistant", "content": ASSISTANT[1]},
    ]
    return {"env": "function", "task_id": "t", "tools": [TOOL_SCHEMA], "messages": messages}


def _spans(ids: list[int], labels: list[int]) -> list[list[int]]:
    spans, current = [], []
    for token, label in zip(ids, labels):
        if label != IGNORE:
            assert label == token
            current.append(token)
        elif current:
            spans.append(current)
            current = []
    return spans + ([current] if current else [])


def test_loss_falls_only_on_the_assistant_turns_and_their_end_token():
    tokenizer = build_tokenizer()
    row = tokenize_example(_example(), tokenizer, max_length=10_000)
    spans = _spans(row["input_ids"], row["labels"])
    assert [tokenizer.decode(s) for s in spans] == [a + IM_END for a in ASSISTANT]


def test_untrained_turns_stay_in_the_context_but_out_of_the_loss():
    tokenizer = build_tokenizer()
    row = tokenize_example({**_example(), "untrained_turns": [0]}, tokenizer, max_length=10_000)
    assert [tokenizer.decode(s) for s in _spans(row["input_ids"], row["labels"])] == [ASSISTANT[1] + IM_END]
    assert row["input_ids"] == tokenize_example(_example(), tokenizer, max_length=10_000)["input_ids"]


def test_piecewise_tokens_spell_the_same_prompt_the_policy_sees():
    tokenizer = build_tokenizer()
    example = _example()
    row = tokenize_example(example, tokenizer, max_length=10_000)
    expected = render_chatml(chat_messages(example["messages"], example["tools"]))
    assert tokenizer.decode(row["input_ids"]) == expected.removesuffix("\n")


def test_examples_are_cut_at_max_length_and_padding_is_not_trained():
    tokenizer = build_tokenizer()
    short = tokenize_example(_example(), tokenizer, max_length=40)
    full = tokenize_example(_example(), tokenizer, max_length=10_000)
    assert len(short["input_ids"]) == 40
    batch = collate([short, full], pad_id=0)
    assert batch["input_ids"].shape == (2, len(full["input_ids"]))
    assert (batch["labels"][0, 40:] == IGNORE).all() and batch["attention_mask"][0, 40:].sum() == 0


def test_resume_ignores_and_deletes_partial_checkpoints(tmp_path):
    for step, complete in ((2, True), (4, True), (6, False)):
        path = tmp_path / f"checkpoint-{step}"
        path.mkdir()
        if complete:
            (path / MARKER).write_text("{}")
    assert prepare_resume(tmp_path) == tmp_path / "checkpoint-4"
    assert not (tmp_path / "checkpoint-6").exists()


def _sft(data, model, out, steps):
    args = [sys.executable, "-m", "bao.cli.main", "sft", "--data", str(data), "--model", str(model), "--out", str(out),
            "--max-steps", str(steps), "--save-steps", "2", "--grad-accum", "1", "--max-length", "1024"]
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def test_killed_run_resumes_from_its_last_complete_checkpoint(tmp_path):
    data = tmp_path / "data.jsonl"
    write_examples(data, [_example()] * 8)
    model = save_tiny_model(tmp_path / "tiny")
    out = tmp_path / "run"
    steps = 40
    proc = _sft(data, model, out, steps)
    deadline = time.time() + 120
    while not (out / "checkpoint-4" / MARKER).exists():
        assert proc.poll() is None, proc.stderr.read()
        assert time.time() < deadline, "no checkpoint within 120 s"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (out / "final").exists()
    saved = max(int(p.name.split("-")[1]) for p in out.glob("checkpoint-*") if (p / MARKER).exists())
    assert saved < steps

    proc = _sft(data, model, out, steps)
    assert proc.wait(timeout=300) == 0, proc.stderr.read()
    events = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    starts = [i for i, e in enumerate(events) if e["event"] == "start"]
    assert len(starts) == 2 and events[starts[1]]["resume_from"].endswith(f"checkpoint-{saved}")
    resumed_steps = [e["step"] for e in events[starts[1]:] if e["event"] == "train" and "loss" in e]
    assert resumed_steps[0] == saved + 1 and resumed_steps[-1] == steps
    state = json.loads((out / f"checkpoint-{steps}" / "trainer_state.json").read_text())
    assert state["global_step"] == steps and (out / "final" / "model.safetensors").exists()


@needs_data
def test_periodic_evaluation_plays_the_test_split_through_the_rollout_engine(tmp_path):
    from bao.pipelines.sft import SFTConfig, train

    data = tmp_path / "data.jsonl"
    write_examples(data, [_example()] * 2)
    model = save_tiny_model(tmp_path / "tiny")
    config = SFTConfig(data=data, out=tmp_path / "run", model=str(model), max_steps=2, grad_accum=1, save_steps=2,
                       max_length=1024, eval_steps=1, eval_n=2, eval_max_new_tokens=8)
    summary = train(config)
    events = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    evals = [e for e in events if e["event"] == "eval"]
    assert [e["step"] for e in evals] == [1]
    assert summary["eval"]["invalid_rate"] == 1.0 and evals[0]["turns"] > 0  # a random model writes no valid call


def test_lora_run_writes_a_merged_model_that_loads_without_peft(tmp_path):
    pytest.importorskip("peft")
    from transformers import AutoModelForCausalLM

    from bao.pipelines.sft import SFTConfig, train

    data = tmp_path / "data.jsonl"
    write_examples(data, [_example()] * 2)
    model = save_tiny_model(tmp_path / "tiny")
    summary = train(SFTConfig(data=data, out=tmp_path / "run", model=str(model), lora=True, lr=1e-3, max_steps=2,
                              grad_accum=1, save_steps=1, max_length=1024))
    final = tmp_path / "run" / "final"
    assert summary["steps"] == 2 and not (final / "adapter_config.json").exists()
    assert list((tmp_path / "run" / "runs").rglob("events.out.tfevents.*")), "no tensorboard log"
    assert (tmp_path / "run" / "checkpoint-2" / "adapter_config.json").exists()
    AutoModelForCausalLM.from_pretrained(final)
