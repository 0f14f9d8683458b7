"""`bao export verl`: one parquet row per task and user seed, with what verl's dataset and bao's agent loop read.
Needs no verl (what verl makes of the file: tests/integrations/verl/test_export_dataset.py)."""

from __future__ import annotations

import argparse

import pyarrow.parquet as pq
import pytest

from bao.agent.prompt import chat_messages
from bao.cli import export as export_cli
from bao.envs.registry import make
from bao.integrations.verl.export import export_rows
from tests.conftest import needs_data


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    export_cli.add_parser(parser.add_subparsers(dest="command"))
    return export_cli.run(parser.parse_args(["export", "verl", *argv]))


@needs_data
def test_each_task_gets_one_row_per_seed_with_the_prompt_the_model_sees():
    rows = export_rows("intention", "train", seeds=[0, 3], n=2)
    tasks = make("intention").tasks("train")[:2]
    assert [(r["extra_info"]["task_id"], r["extra_info"]["seed"]) for r in rows] == [
        (tasks[0].id, 0), (tasks[0].id, 3), (tasks[1].id, 0), (tasks[1].id, 3)]
    assert [r["extra_info"]["index"] for r in rows] == [0, 1, 2, 3]
    assert rows[2]["prompt"] == chat_messages(tasks[1].prompt)
    assert "<tools>" in rows[2]["prompt"][0]["content"]
    assert {(r["agent_name"], r["data_source"], r["extra_info"]["env"], r["extra_info"]["split"]) for r in rows} == {
        ("bao", "bao/intention", "intention", "train")}


@needs_data
def test_the_command_writes_split_parquet_and_refuses_to_replace_it_without_overwrite(tmp_path, capsys):
    assert run("--env", "function", "--split", "test", "--out", str(tmp_path), "--n", "3", "--seeds", "0,1") == 0
    table = pq.read_table(tmp_path / "test.parquet")
    assert table.num_rows == 6 and set(table.column_names) == {"data_source", "agent_name", "prompt", "extra_info"}
    assert "wrote 6 rows" in capsys.readouterr().out
    with pytest.raises(ValueError, match="--overwrite"):
        run("--env", "function", "--split", "test", "--out", str(tmp_path), "--n", "1")
    assert run("--env", "function", "--split", "test", "--out", str(tmp_path), "--n", "1", "--overwrite") == 0
    assert pq.read_table(tmp_path / "test.parquet").num_rows == 1


def test_an_unknown_env_fails_before_anything_is_written(tmp_path):
    with pytest.raises(KeyError, match="unknown environment"):
        run("--env", "chess", "--out", str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("flag", "value"), [("--n", "0"), ("--seeds", "a,b")])
def test_bad_numbers_fail_at_parse_time(flag, value, tmp_path, capsys):
    with pytest.raises(SystemExit):
        run("--env", "function", "--out", str(tmp_path), flag, value)
    assert flag in capsys.readouterr().err
