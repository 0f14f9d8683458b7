"""End to end against a real llama.cpp server started by `bao serve`'s code, outside the default suite.

llama-cpp-python compiles llama.cpp from source (minutes), so it is not a test dependency: these tests run only
when `$BAO_LLAMA_PYTHON` names an interpreter that has it, e.g.

    BAO_LLAMA_PYTHON=/work/llama-venv/bin/python pytest tests/cli/test_serve_e2e.py -m server

The embedded SmolLM2-135M is untrained for the tool: it writes prose, so its turns parse as invalid actions
(as with the torch engine, docs/llm-policies.md). What these tests prove is the path: the server serves, bao
notices that it drops `tools` and plays in its text format, every turn reaches the parser, and the LLM user
gets its answers from the same server.
"""

from __future__ import annotations

import os
import socket

import pytest

from bao.cli.main import main
from bao.cli.serve import LlamaServer, ServeConfig
from bao.core.types import read_jsonl
from tests.conftest import needs_data

LLAMA_PYTHON = os.environ.get("BAO_LLAMA_PYTHON")
pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(not LLAMA_PYTHON, reason="needs llama-cpp-python: set BAO_LLAMA_PYTHON to its interpreter"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The embedded SmolLM2 GGUF served on one thread (the machine may be busy)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = ServeConfig(port=port, threads=1, python=LLAMA_PYTHON)
    with (tmp_path_factory.mktemp("llama") / "server.log").open("w") as log, LlamaServer(config, log=log) as running:
        yield running


@pytest.fixture(autouse=True)
def patient_client(monkeypatch):
    """The server answers one request at a time, on one thread: wait for it rather than retry."""
    monkeypatch.setenv("BAO_LLM_CONCURRENCY", "1")
    monkeypatch.setenv("BAO_LLM_TIMEOUT", "600")


@needs_data
def test_the_agent_policy_plays_through_the_server_in_the_text_format(server, capsys, tmp_path):
    args = ["eval", "function", "--policy", "openai", "--model", server.config.alias, "--base-url", server.url,
            "--n", "2", "--max-turns", "2", "--out", str(tmp_path)]
    assert main(args) == 0
    notices = capsys.readouterr().err.strip().splitlines()
    assert len(notices) == 1 and server.url in notices[0] and "text tool format" in notices[0]
    turns = [turn for t in read_jsonl(tmp_path / "trajectories.jsonl") for turn in t.turns]
    assert len(turns) == 4 and all(turn.output.strip() for turn in turns)
    assert all(turn.kind != "invalid" or turn.error.startswith("no tool call found") for turn in turns)


def test_the_server_takes_a_past_tool_call_with_empty_content(server):
    """llama.cpp's server answers `content: null` with HTTP 500; bao's native messages carry "" instead."""
    from bao.agent.render import render_tool_call
    from bao.agent.wire import TOOL_SCHEMA
    from bao.llm_client import ChatClient, ClientConfig
    from bao.policies.openai_api import native_messages

    messages = native_messages([{"role": "system", "content": "Find the rule."}, {"role": "user", "content": "Go."},
                                {"role": "assistant", "content": render_tool_call("search", "test")},
                                {"role": "tool", "content": "Test case: [1, 2]"}])
    assert messages[2]["content"] == "" and messages[2]["tool_calls"]
    client = ChatClient(ClientConfig(base_url=server.url, max_retries=0))
    answer = client.chat({"model": server.config.alias, "messages": messages, "tools": [TOOL_SCHEMA],
                          "max_tokens": 8, "temperature": 0, "seed": 0})
    assert answer["usage"]["completion_tokens"] > 0


@needs_data
def test_the_llm_user_answers_through_the_server(server, tmp_path):
    args = ["eval", "turtle", "--user", "llm", "--user-model", server.config.alias, "--user-base-url", server.url,
            "--n", "1", "--max-turns", "2", "--out", str(tmp_path)]
    assert main(args) == 0
    turns = [turn for t in read_jsonl(tmp_path / "trajectories.jsonl") for turn in t.turns]
    assert len(turns) == 2 and all(turn.observation for turn in turns)
