"""`bao eval --policy hf|openai`: LLM agents through the same command and harness as the scripted ones."""

import json

import pytest

from bao.cli.main import main
from bao.core.types import read_jsonl
from tests.conftest import needs_data


def test_openai_policy_without_model_says_which_flag_is_missing(capsys):
    assert main(["eval", "function", "--policy", "openai", "--base-url", "http://127.0.0.1:9/v1"]) == 2
    assert "--model NAME" in capsys.readouterr().out


def test_hf_policy_with_a_missing_model_directory_is_a_one_line_error(capsys, tmp_path):
    pytest.importorskip("torch")
    assert main(["eval", "function", "--policy", "hf", "--model", str(tmp_path)]) == 2
    out = capsys.readouterr().out.strip()
    assert "no config.json" in out and len(out.splitlines()) == 1


@needs_data
def test_eval_with_a_local_hf_model_writes_token_records(capsys, tmp_path):
    pytest.importorskip("torch")
    from bao.policies.tiny import save_tiny_model

    model = save_tiny_model(tmp_path / "tiny")
    out = tmp_path / "run"
    args = ["eval", "function", "--policy", "hf", "--model", str(model), "--n", "2", "--max-turns", "2",
            "--max-new-tokens", "6", "--temperature", "0", "--out", str(out)]
    assert main(args) == 0
    assert "generated tokens" in capsys.readouterr().out
    trajectories = list(read_jsonl(out / "trajectories.jsonl"))
    assert len(trajectories) == 2 and all(t.tokens and t.tokens.temperature == 1.0 for t in trajectories)
    assert json.loads((out / "metrics.json").read_text())["policy"] == "hf:tiny"


@needs_data
def test_eval_with_an_openai_compatible_server(capsys, tmp_path):
    pytest.importorskip("openai")
    from tests.llm_client.fake_server import FakeServer, completion

    call = ("interact_with_env", json.dumps({"choice": "answer", "content": "0"}))
    with FakeServer(lambda _r: completion("guess", [call])) as server:
        args = ["eval", "function", "--policy", "openai", "--model", "fake", "--base-url", server.base_url,
                "--n", "2", "--max-turns", "2", "--out", str(tmp_path)]
        assert main(args) == 0
    assert len(server.requests) == 4
    trajectories = list(read_jsonl(tmp_path / "trajectories.jsonl"))
    assert [turn.kind for t in trajectories for turn in t.turns] == ["answer"] * 4


# Faults at the endpoint: `bao eval --policy openai` either finishes after retries, or stops with one line that
# names the endpoint, keeping the finished episodes; `--resume` with `--llm-cache` replays them for free.

KEY = "sk-bao-test-NOT-A-REAL-KEY-7f3a"
SEARCH = json.dumps({"choice": "search", "content": "test"})
ANSWER = json.dumps({"choice": "answer", "content": "0"})


@pytest.fixture
def fast_client(monkeypatch):
    """Small timeouts and backoff (through the BAO_LLM_* defaults) and a recognisable fake key."""
    pytest.importorskip("openai")
    for name, value in {"BAO_LLM_TIMEOUT": "0.5", "BAO_LLM_MAX_RETRIES": "2", "BAO_LLM_BACKOFF": "0.01",
                        "BAO_LLM_MAX_RETRY_AFTER": "0.3", "OPENAI_API_KEY": KEY}.items():
        monkeypatch.setenv(name, value)


def search_then_answer(request: dict) -> tuple:
    """Two turns an episode: search for the test case, then answer."""
    from tests.llm_client.fake_server import completion

    searched = any(m["role"] == "tool" for m in request["messages"])
    return completion("look first" if not searched else "", [("interact_with_env", ANSWER if searched else SEARCH)])


def run_eval(out, server_url, *extra: str, n: int = 3) -> int:
    return main(["eval", "function", "--policy", "openai", "--model", "fake", "--base-url", server_url,
                 "--n", str(n), "--max-turns", "2", "--batch-size", "1", "--out", str(out), *extra])


def one_error_line(capsys, url: str) -> str:
    captured = capsys.readouterr()
    errors = [line for line in captured.out.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and url in errors[0], captured.out
    assert "Traceback" not in captured.out + captured.err
    return errors[0]


def finished_episodes(out) -> list:
    return list(read_jsonl(out / "trajectories.jsonl"))


@needs_data
@pytest.mark.parametrize("fault", ["500", "429", "slow", "malformed", "hangup"])
def test_eval_succeeds_when_the_endpoint_recovers_within_the_retries(fast_client, tmp_path, fault):
    from tests.llm_client.fake_server import FakeServer, Hangup, error, sequence, slow

    first = {"500": error(500, "overloaded"), "429": error(429, "slow down", {"Retry-After": "0.2"}),
             "malformed": (200, b'{"choices": ['), "hangup": Hangup}
    if fault == "slow":
        late = iter([True])
        reply = lambda r: slow(1.0, search_then_answer(r))(r) if next(late, False) else search_then_answer(r)  # noqa: E731
    else:
        reply = sequence(first[fault], first[fault], then=search_then_answer)
    with FakeServer(reply) as server:
        assert run_eval(tmp_path, server.base_url, n=2) == 0
    assert len(server.requests) == 4 + (1 if fault == "slow" else 2)
    assert [t.turns[-1].kind for t in finished_episodes(tmp_path)] == ["answer", "answer"]
    assert (tmp_path / "metrics.json").is_file() and not (tmp_path / "INCOMPLETE").exists()


@needs_data
@pytest.mark.parametrize("fault", ["500", "429", "slow", "malformed", "dies"])
def test_a_fault_mid_run_stops_with_one_line_and_resume_replays_from_the_cache(fast_client, capsys, tmp_path, fault):
    """Episodes 1-2 finish (4 requests), episode 3 searches (request 5), then the endpoint fails for good."""
    from tests.llm_client.fake_server import FakeServer, after, dies, error, slow

    faults = {"500": lambda _r: error(500, "overloaded"),
              "429": lambda _r: error(429, "slow down", {"Retry-After": "3600"}),
              "slow": slow(1.0, error(500, "late")), "malformed": lambda _r: (200, b"<html>Bad Gateway</html>"),
              "dies": dies}
    out, cache = tmp_path / "run", str(tmp_path / "llm.sqlite")
    with FakeServer(after(5, faults[fault], search_then_answer)) as broken:
        assert run_eval(out, broken.base_url, "--llm-cache", cache) == 2
    line = one_error_line(capsys, broken.base_url)
    assert "after 3 tries" in line
    assert len(finished_episodes(out)) == 2 and (out / "INCOMPLETE").is_file()
    assert len(broken.requests) == 5 + (1 if fault == "dies" else 3)  # a dead server counts no retries

    with FakeServer(search_then_answer, port=broken.port) as repaired:
        assert run_eval(out, repaired.base_url, "--llm-cache", cache, "--resume") == 0
    assert len(repaired.requests) == 1  # episode 3's answer: its search comes from the cache, 1-2 from disk
    assert [t.task_id for t in finished_episodes(out)] == [t.id for t in _tasks(3)]
    with FakeServer(search_then_answer, port=broken.port) as again:
        assert run_eval(tmp_path / "rerun", again.base_url, "--llm-cache", cache) == 0
    assert again.requests == []  # every request of the run is in the cache


@needs_data
def test_connection_refused_is_one_line_naming_the_endpoint(fast_client, capsys, tmp_path):
    from tests.llm_client.fake_server import FakeServer, completion

    with FakeServer(lambda _r: completion("x")) as server:
        url = server.base_url
    assert run_eval(tmp_path, url) == 2
    assert "APIConnectionError" in one_error_line(capsys, url)
    assert finished_episodes(tmp_path) == [] and (tmp_path / "INCOMPLETE").is_file()


@needs_data
def test_the_api_key_never_reaches_output_or_files(fast_client, capsys, tmp_path):
    from tests.llm_client.fake_server import FakeServer, after, error

    cache = str(tmp_path / "llm.sqlite")
    echo_key = after(2, lambda _r: error(401, f"Incorrect API key provided: {KEY}"), search_then_answer)
    with FakeServer(echo_key) as server:
        assert run_eval(tmp_path / "run", server.base_url, "--llm-cache", cache, n=2) == 2
    assert all(h["authorization"] == f"Bearer {KEY}" for h in server.headers)
    captured = capsys.readouterr()
    assert "***" in captured.out and KEY not in captured.out + captured.err
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(written) >= 3 and not [p for p in written if KEY.encode() in p.read_bytes()]


@needs_data
def test_eval_against_a_server_that_ignores_tools_uses_the_text_format(fast_client, capsys, tmp_path):
    """llama.cpp's server with SmolLM2: `tools` accepted and dropped, `content: null` answered with HTTP 500."""
    from bao.agent.render import render_tool_call
    from tests.llm_client.fake_server import FakeServer, ignores_tools, rejects_null_content

    with FakeServer(rejects_null_content(ignores_tools(render_tool_call("answer", "0")))) as server:
        assert run_eval(tmp_path, server.base_url, "--batch-size", "4", n=2) == 0
    notices = capsys.readouterr().err.strip().splitlines()
    assert len(notices) == 1 and server.base_url in notices[0]
    assert ["tools" in r for r in server.requests] == [True, True] + [False] * 4  # turn 1 asked again as text
    assert [turn.kind for t in finished_episodes(tmp_path) for turn in t.turns] == ["answer"] * 4


def _tasks(n: int) -> list:
    from bao.envs import make

    return make("function").tasks("test")[:n]
