import json

import pytest

from bao.cli.main import build_parser, main
from bao.pipelines.sft import MARKER, prepare_resume
from bao.pipelines.teacher_data import write_examples

EXAMPLE = {"env": "function", "messages": [{"role": "user", "content": "Begin."},
                                           {"role": "assistant", "content": "ok"}]}


@pytest.fixture
def no_model(monkeypatch):
    """Fail the test if the model starts loading: the checks under test must come first."""

    def refuse(config):
        raise AssertionError("the model loaded before the inputs were checked")

    monkeypatch.setattr("bao.pipelines.sft.load_model", refuse)


def _sft(data, out) -> int:
    return main(["sft", "--data", str(data), "--out", str(out), "--model", "smollm2-135m"])


def _error(capsys) -> str:
    out = capsys.readouterr().out.strip()
    assert len(out.splitlines()) == 1, out
    return out


def _data(tmp_path, *lines: str):
    path = tmp_path / "data.jsonl"
    path.write_text("".join(line + "\n" for line in lines))
    return path


def test_an_output_that_is_a_file_is_one_line_before_the_model_loads(tmp_path, capsys, no_model):
    out = tmp_path / "run"
    out.write_text("")
    assert _sft(_data(tmp_path, json.dumps(EXAMPLE)), out) == 2
    assert "is a file" in _error(capsys)


def test_an_output_that_cannot_be_created_is_one_line_before_the_model_loads(tmp_path, capsys, no_model):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert _sft(_data(tmp_path, json.dumps(EXAMPLE)), blocker / "run") == 2
    assert "cannot write" in _error(capsys)


CUT = '{"messages": [{"role": "user", "content": "Be'
BAD_DATA = [
    ((), "no data file"),
    ((json.dumps(EXAMPLE), json.dumps(EXAMPLE), CUT, 'gin."}]}'), "line 3: not valid JSON"),
    ((json.dumps(EXAMPLE), '{"prompt": "hi"}'), 'line 2: expected an object with "messages": [{"role": ..., '
                                                '"content": ...}], got an object without "messages"'),
    (('[{"role": "user", "content": "hi"}]',), "line 1: expected an object with \"messages\""),
    (('"hello"',), "got a string"),
    (('{"messages": [{"role": "user"}]}',), "line 1: expected an object with \"messages\""),
    (("",), 'holds no examples: expected one object with "messages"'),
]


@pytest.mark.parametrize("lines,message", BAD_DATA, ids=["missing", "cut-line", "no-messages", "list", "string",
                                                         "no-content", "empty"])
def test_bad_data_is_one_line_naming_the_file_and_line_and_leaves_no_run_behind(tmp_path, capsys, no_model, lines,
                                                                                message):
    data = _data(tmp_path, *lines) if lines else tmp_path / "missing.jsonl"
    out = tmp_path / "run"
    assert _sft(data, out) == 2
    error = _error(capsys)
    assert message in error and str(data) in error
    assert not out.exists()


def test_a_failed_check_leaves_an_existing_run_as_it_was(tmp_path, capsys, no_model):
    out = tmp_path / "run"
    checkpoint = out / "checkpoint-2"
    checkpoint.mkdir(parents=True)
    (checkpoint / MARKER).write_text("{}")
    (out / "sft_config.json").write_text("{}")
    assert _sft(_data(tmp_path, "[]"), out) == 2
    assert (out / "sft_config.json").read_text() == "{}" and prepare_resume(out) == checkpoint


def test_a_run_directory_passes_the_checks_and_reaches_the_model(tmp_path, monkeypatch):
    pytest.importorskip("transformers")
    out = tmp_path / "run"
    (out / "checkpoint-2").mkdir(parents=True)
    data = tmp_path / "data.jsonl"
    write_examples(data, [EXAMPLE])

    class Loaded(Exception):
        pass

    def loaded(config):
        raise Loaded

    monkeypatch.setattr("bao.pipelines.sft.load_model", loaded)
    with pytest.raises(Loaded):
        main(["sft", "--data", str(data), "--out", str(out)])


@pytest.mark.parametrize("flag,value", [
    ("--epochs", "0"), ("--batch-size", "0"), ("--grad-accum", "-1"), ("--lr", "0"), ("--lr", "nan"),
    ("--save-steps", "0"), ("--max-length", "x"), ("--lora-r", "0"), ("--warmup", "-1"), ("--eval-n", "-1"),
])
def test_bad_numbers_of_sft_fail_at_parse_time_naming_the_flag(tmp_path, capsys, flag, value):
    with pytest.raises(SystemExit) as exit:
        build_parser().parse_args(["sft", "--data", "d.jsonl", "--out", str(tmp_path), flag, value])
    assert exit.value.code == 2 and f"argument {flag}" in capsys.readouterr().err
