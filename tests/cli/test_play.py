"""`bao play` shows the player exactly the text the agent gets, brackets included."""

import io

import pytest
from rich.console import Console

from bao.cli.play import play
from bao.envs import registry


@pytest.fixture
def clue_env(monkeypatch):
    monkeypatch.setitem(registry._ENVS, "clue", "tests.pipelines.clue_env:ClueEnv")


def _play(monkeypatch, moves: str) -> str:
    out = io.StringIO()
    monkeypatch.setattr("sys.stdin", io.StringIO(moves))
    assert play("clue", None, "test", 0, Console(file=out, force_terminal=False, width=200)) == 0
    return out.getvalue()


def test_bracketed_action_prefixes_reach_the_player(monkeypatch, clue_env):
    out = _play(monkeypatch, "hello\n[action] clue\n[answer] 7\n")
    assert "Type an action such as [action] ..., [search] ..., [answer] ..., or [finish]." in out
    assert "Use [action] clue or [answer] N." in out  # the env's reply to an invalid move
    assert "The number is 7." in out and "success=True" in out


def test_markup_in_env_text_is_printed_verbatim(monkeypatch, clue_env):
    from tests.pipelines.clue_env import ClueEnv

    monkeypatch.setattr(ClueEnv, "_reset", lambda self, task, seed: setattr(self, "asked", False))
    task = ClueEnv().tasks("test")[0]
    task.prompt[1]["content"] = "[bold red]not a style[/bold red] [finish]"
    monkeypatch.setattr(ClueEnv, "tasks", lambda self, split: [task])
    assert "[bold red]not a style[/bold red] [finish]" in _play(monkeypatch, "\n")
