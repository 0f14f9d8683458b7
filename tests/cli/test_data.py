import os

import pytest

from bao.cli.main import build_parser, main
from tests.conftest import needs_data


@pytest.fixture
def no_episodes(monkeypatch):
    """Fail the test if an episode starts: the checks under test must come first."""

    def refuse(*args, **kwargs):
        raise AssertionError("an episode ran before the output was checked")

    monkeypatch.setattr("bao.pipelines.teacher_data.run_episodes", refuse)


def _error(capsys) -> str:
    out = capsys.readouterr().out.strip()
    assert len(out.splitlines()) == 1, out
    return out


def _teacher(out, *flags: str) -> int:
    return main(["data", "teacher", "function", "--n", "2", "--out", str(out), *flags])


def test_an_existing_output_file_is_refused_without_overwrite(tmp_path, capsys, no_episodes):
    out = tmp_path / "data.jsonl"
    out.write_text("keep me\n")
    assert _teacher(out) == 2
    assert "--overwrite" in _error(capsys) and out.read_text() == "keep me\n"


@needs_data
def test_overwrite_replaces_an_existing_output_file(tmp_path, capsys):
    out = tmp_path / "data.jsonl"
    out.write_text("old\n")
    assert _teacher(out, "--behaviors", "none", "--overwrite") == 0
    assert out.read_text() != "old\n" and sorted(p.name for p in tmp_path.iterdir()) == ["data.jsonl",
                                                                                       "data.jsonl.stats.json"]


def test_an_output_directory_is_one_line_before_any_episode(tmp_path, capsys, no_episodes):
    assert _teacher(tmp_path) == 2
    assert "is a directory" in _error(capsys)
    assert list(tmp_path.iterdir()) == []


def test_an_output_below_a_file_is_one_line_before_any_episode(tmp_path, capsys, no_episodes):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert _teacher(blocker / "data.jsonl") == 2
    message = _error(capsys)
    assert "cannot write there" in message and f"{blocker} is a file" in message
    assert [p.name for p in tmp_path.iterdir()] == ["file"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only directories; the probe test above covers root")
def test_a_read_only_directory_is_one_line_before_any_episode(tmp_path, capsys, no_episodes):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        assert _teacher(locked / "data.jsonl") == 2
        assert "cannot write" in _error(capsys) and list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)


@needs_data
def test_an_unknown_split_is_blamed_on_the_split(tmp_path, capsys, no_episodes):
    assert _teacher(tmp_path / "data.jsonl", "--split", "bogus") == 2
    message = _error(capsys)
    assert "--split 'bogus'" in message and "BAO_DATA_DIR" not in message


@pytest.mark.parametrize("flag,value", [("--n", "0"), ("--n", "-3"), ("--n", "two"), ("--max-turns", "0")])
def test_bad_numbers_of_data_teacher_fail_at_parse_time_naming_the_flag(tmp_path, capsys, flag, value):
    with pytest.raises(SystemExit) as exit:
        build_parser().parse_args(["data", "teacher", "function", "--out", str(tmp_path / "d.jsonl"), flag, value])
    assert exit.value.code == 2 and f"argument {flag}" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["data", "sft", "train", "models"])
def test_top_level_help_gives_every_command_a_help_line(capsys, command):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    lines = capsys.readouterr().out.splitlines()
    line = next(line for line in lines if line.strip().split(" ")[0] == command)
    assert len(line.split()) > 1, f"`bao --help` shows {command} without a help line"
