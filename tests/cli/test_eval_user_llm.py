"""`bao eval ENV --user llm`: runs against a local fake endpoint for every env with an LLM user, keeps the key
out of every output, replays a rerun from the cache without a request, and records usage in metrics.json."""

import json

import pytest

from bao.cli.main import main
from tests.conftest import needs_data

pytest.importorskip("openai")

from tests.users.llm_server import scripted_server  # noqa: E402

KEY = "sk-bao-test-KEY-7f3a9c"
LLM_ENVS = ("intention", "telepathy", "turtle", "travel", "persuade", "search", "tau")


def _eval(env, server, out, *extra):
    # search's judge hears only answers that miss the exact match: the heuristic's are exact, answer-now's are not
    agent = "answer-now" if env == "search" else "heuristic"
    return main(["eval", env, "--user", "llm", "--agent", agent, "--n", "5", "--user-model", "scripted",
                 "--user-base-url", server.base_url, "--user-api-key-env", "BAO_TEST_USER_KEY", "--out", str(out),
                 *extra])


@needs_data
@pytest.mark.parametrize("env", LLM_ENVS)
def test_eval_with_the_llm_user_runs_records_usage_and_never_writes_the_key(env, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("BAO_TEST_USER_KEY", KEY)
    with scripted_server() as server:
        assert _eval(env, server, tmp_path / "run", "--user-price-in", "2", "--user-price-out", "8") == 0
    out = capsys.readouterr()
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    usage = metrics["usage"]["user_llm"]
    assert metrics["episodes"] == 5 and usage["requests"] == len(server.requests) > 0
    assert usage["cost"] == pytest.approx((usage["prompt_tokens"] * 2 + usage["completion_tokens"] * 8) / 1e6)
    assert metrics["settings"]["env_kwargs"]["llm"]["api_key_env"] == "BAO_TEST_USER_KEY"
    assert f"LLM user: {usage['requests']} requests" in out.out
    written = "".join(p.read_text() for p in (tmp_path / "run").iterdir())
    assert KEY not in out.out + out.err + written


@needs_data
def test_a_rerun_with_the_user_cache_sends_no_request_and_plays_the_same_episodes(tmp_path, capsys):
    cache = str(tmp_path / "user.sqlite")
    with scripted_server() as server:
        assert _eval("turtle", server, tmp_path / "a", "--user-cache", cache) == 0
        first = len(server.requests)
        assert _eval("turtle", server, tmp_path / "b", "--user-cache", cache) == 0
    assert first > 0 and len(server.requests) == first
    usage = json.loads((tmp_path / "b" / "metrics.json").read_text())["usage"]["user_llm"]
    assert usage["requests"] == 0 and usage["cache_hits"] == first
    assert (tmp_path / "a" / "trajectories.jsonl").read_text() == (tmp_path / "b" / "trajectories.jsonl").read_text()


def test_user_llm_on_an_env_without_one_is_a_one_line_error(capsys):
    assert main(["eval", "function", "--user", "llm", "--user-model", "m"]) == 2
    err = capsys.readouterr().out.strip()
    assert "function has no llm user" in err and len(err.splitlines()) == 1


def test_user_llm_without_a_model_is_a_one_line_error(capsys, monkeypatch):
    monkeypatch.delenv("USER_MODEL_NAME", raising=False)
    assert main(["eval", "turtle", "--user", "llm"]) == 2
    assert "--user llm needs --user-model" in capsys.readouterr().out


def test_llm_user_flags_without_user_llm_are_refused(capsys):
    assert main(["eval", "turtle", "--user-model", "m"]) == 2
    assert "add --user llm" in capsys.readouterr().out


def test_bao_envs_lists_the_user_backends(capsys):
    assert main(["envs"]) == 0
    table = capsys.readouterr().out
    assert "user backends" in table and "offline, llm" in table
