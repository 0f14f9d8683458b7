import json

import pytest

from bao.agent.parse import parse_action
from bao.agent.wire import TOOL_SCHEMA
from bao.envs import make
from bao.envs.data import DataError
from bao.envs.intention import ALREADY_SAID, REDIRECT, task_details
from bao.pipelines.teacher_data import (
    TeacherDataConfig,
    build_teacher_data,
    read_examples,
    stats_path_of,
    write_examples,
)
from bao.policies.teachers.intention import detour_schedule
from tests.conftest import needs_data


@needs_data
@pytest.mark.parametrize("suffix", ["jsonl", "parquet"])
def test_builder_keeps_successful_episodes_as_chat_examples_with_stats(tmp_path, suffix):
    out = tmp_path / f"data.{suffix}"
    stats = build_teacher_data(TeacherDataConfig(env="turtle", out=out, n=30))
    examples = list(read_examples(out))
    assert len(examples) == stats.kept and 0 < stats.kept <= 30 and stats.leaky == 0
    assert stats.kept < stats.episodes  # turtle's teacher fails a few stories: they are filtered out
    saved = json.loads(stats_path_of(out).read_text())
    assert saved["kept"] == stats.kept and saved["mean_R"] == 1.0 and set(saved["turns"]) >= {"min", "p50", "max"}
    for example in examples:
        messages = example["messages"]
        assert example["tools"] == [TOOL_SCHEMA]
        assert [m["role"] for m in messages[:2]] == ["system", "user"] and messages[-1]["role"] == "assistant"
        assert all(m["role"] == ("assistant" if i % 2 == 0 else "tool") for i, m in enumerate(messages[2:]))
        assert parse_action(messages[-1]["content"]).choice == "answer"


@needs_data
def test_teacher_detours_are_written_as_untrained_turns(tmp_path):
    out = tmp_path / "intention.parquet"
    build_teacher_data(TeacherDataConfig(env="intention", out=out, n=20))
    examples = list(read_examples(out))
    tasks = {t.id: t for t in make("intention").tasks("train")}
    assert any(e["untrained_turns"] for e in examples) and not all(e["untrained_turns"] for e in examples)
    for example in examples:
        schedule = detour_schedule(example["task_id"], example["seed"], len(task_details(tasks[example["task_id"]])))
        calls = [parse_action(m["content"]) for m in example["messages"] if m["role"] == "assistant"]
        broken = [i for i, call in enumerate(calls) if not call.valid]
        played = [i for i, call in enumerate(calls) if call.valid]
        assert example["untrained_turns"] == sorted(broken + [played[i] for i, d in enumerate(schedule) if d])
        replies = [m["content"] for m in example["messages"] if m["role"] == "tool"]
        for i in example["untrained_turns"]:
            assert replies[i] == REDIRECT or replies[i].startswith((ALREADY_SAID, "Invalid action format"))


@needs_data
def test_none_behaviors_write_the_same_episodes_without_reasoning(tmp_path):
    bao = build_teacher_data(TeacherDataConfig(env="telepathy", out=tmp_path / "bao.jsonl", n=8))
    none = build_teacher_data(TeacherDataConfig(env="telepathy", out=tmp_path / "none.jsonl", n=8, behaviors="none"))
    assert bao.kept == none.kept
    for a, b in zip(read_examples(tmp_path / "bao.jsonl"), read_examples(tmp_path / "none.jsonl")):
        calls = [parse_action(m["content"]) for m in a["messages"] if m["role"] == "assistant"]
        calls_a = [c for c in calls if c.valid]
        broken = [i for i, c in enumerate(calls) if not c.valid]
        assert len(broken) <= 1 and a["untrained_turns"] == broken  # telepathy's teacher makes no mistakes
        calls_b = [parse_action(m["content"]) for m in b["messages"] if m["role"] == "assistant"]
        assert [(c.choice, c.content) for c in calls_a] == [(c.choice, c.content) for c in calls_b]
        assert all(c.reasoning for c in calls_a) and not any(c.reasoning for c in calls_b)


@needs_data
def test_cli_writes_the_file_and_its_stats(tmp_path, capsys):
    from bao.cli.main import main

    out = tmp_path / "fn.jsonl"
    assert main(["data", "teacher", "function", "--n", "4", "--behaviors", "none", "--out", str(out)]) == 0
    assert out.exists() and stats_path_of(out).exists()
    assert '"kept"' in capsys.readouterr().out


@needs_data
def test_llm_annotator_rewrites_reasoning_and_drops_what_breaks_the_grammar(tmp_path):
    pytest.importorskip("openai")
    from tests.llm_client.fake_server import FakeServer, completion

    grammar = ("Known: what the replies said\nAlive: some entities\nRuled out: nothing yet\n"
               "Plan: make the move (budget 99 left)")

    out = tmp_path / "llm.jsonl"
    with FakeServer(lambda request: completion(grammar)) as server:
        stats = build_teacher_data(TeacherDataConfig(env="telepathy", out=out, n=3, annotator_url=server.base_url,
                                                     annotator_model="fake"))
        prompts = [r["messages"][-1]["content"] for r in server.requests]
    titles = [t.hidden["title"] for t in make("telepathy").tasks("train")[:3]]
    assert len(prompts) > 3
    for prompt in prompts:  # the annotator sees an entity's name only once the agent has said it, or in the
        # public list of the last few candidates (`Alive:`, from the knowledge base and the answers so far)
        public = "\n".join(line for line in prompt.splitlines() if line.startswith("Alive:"))
        assert all(title not in prompt or f"answer: {title}" in prompt or title in public for title in titles)
    examples = list(read_examples(out))
    assert stats.kept == len(examples) > 0 and stats.annotation_failed == 0
    first = parse_action(examples[0]["messages"][2]["content"])
    assert first.reasoning.startswith("Known: what the replies said") and first.reasoning.endswith("(budget 16 left)")

    with FakeServer(lambda request: completion("free text")) as server:
        stats = build_teacher_data(TeacherDataConfig(env="telepathy", out=out, n=2, annotator_url=server.base_url,
                                                     annotator_model="fake", overwrite=True))
    assert stats.kept == 0 and stats.annotation_failed == 2


@pytest.mark.parametrize("suffix", ["jsonl", "parquet"])
def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary_file(tmp_path, suffix):
    out = tmp_path / f"data.{suffix}"
    write_examples(out, [{"messages": [{"role": "user", "content": "old"}], "tools": []}])
    before = out.read_bytes()

    def broken():
        yield {"messages": [{"role": "user", "content": "new"}], "tools": []}
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_examples(out, broken())
    assert out.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == [out.name]


def test_a_parquet_row_without_messages_is_named_by_its_row(tmp_path):
    out = tmp_path / "data.parquet"
    write_examples(out, [{"messages": [{"role": "user", "content": "hi"}], "tools": []}, {"prompt": "hi", "tools": []}])
    with pytest.raises(DataError, match='data.parquet row 2: expected an object with "messages"'):
        list(read_examples(out))
