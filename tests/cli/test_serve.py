"""`bao serve`: the llama.cpp server command, and the errors that say what to install (no llama-cpp-python needed)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bao.cli.main import main
from bao.cli.serve import (
    ServeConfig,
    ServerUnavailable,
    check_llama_cpp,
    check_port_free,
    model_file,
    server_command,
    usage_lines,
    wait_ready,
)
from bao.policies.models import ModelError


@pytest.fixture
def no_llama_python(tmp_path) -> str:
    """An interpreter without llama-cpp-python: it fails every import as Python would."""
    python = tmp_path / "python"
    python.write_text("#!/bin/sh\necho \"ModuleNotFoundError: No module named 'llama_cpp'\" >&2\nexit 1\n")
    python.chmod(0o755)
    return str(python)


def test_the_command_runs_llama_cpps_server_on_the_gguf_with_bao_s_settings():
    config = ServeConfig(host="0.0.0.0", port=8123, n_ctx=4096, threads=1, python="/venv/bin/python")
    command = server_command(config, Path("/cache/SmolLM2.gguf"))
    assert command[:3] == ["/venv/bin/python", "-m", "llama_cpp.server"]
    options = dict(zip(command[3::2], command[4::2]))
    assert options == {"--model": "/cache/SmolLM2.gguf", "--model_alias": "smollm2-135m", "--host": "0.0.0.0",
                       "--port": "8123", "--n_ctx": "4096", "--verbose": "False", "--n_threads": "1",
                       "--n_threads_batch": "1"}
    assert config.base_url == "http://127.0.0.1:8123/v1"  # all interfaces: reached locally


def test_without_threads_the_server_picks_its_own():
    assert "--n_threads" not in server_command(ServeConfig(python="py"), Path("m.gguf"))


def test_the_interpreter_comes_from_bao_llama_python(monkeypatch):
    monkeypatch.setenv("BAO_LLAMA_PYTHON", "/llama-venv/bin/python")
    assert ServeConfig().python == "/llama-venv/bin/python"
    monkeypatch.delenv("BAO_LLAMA_PYTHON")
    assert ServeConfig().python == sys.executable


def test_usage_names_the_url_for_the_agent_and_the_user():
    lines = "\n".join(usage_lines(ServeConfig(port=8123)))
    assert "--policy openai --model smollm2-135m --base-url http://127.0.0.1:8123/v1" in lines
    assert "--user llm --user-model smollm2-135m --user-base-url http://127.0.0.1:8123/v1" in lines


def test_a_local_gguf_file_is_served_under_its_stem(tmp_path, capsys):
    gguf = tmp_path / "tiny-q4.gguf"
    gguf.write_bytes(b"GGUF")
    assert model_file(str(gguf)) == gguf and ServeConfig(model=str(gguf)).alias == "tiny-q4"
    assert main(["serve", "--model", str(gguf), "--port", "9000", "--python", "py", "--print-command"]) == 0
    assert capsys.readouterr().out.strip() == (
        f"py -m llama_cpp.server --model {gguf} --model_alias tiny-q4 --host 127.0.0.1 --port 9000 "
        "--n_ctx 8192 --verbose False")


def test_a_model_that_is_neither_embedded_nor_a_gguf_file_is_refused(tmp_path):
    with pytest.raises(ModelError, match="embedded model .* or an existing .gguf file"):
        model_file(str(tmp_path / "missing.gguf"))


def test_missing_llama_cpp_python_is_one_line_naming_the_pip_command(no_llama_python, capsys):
    assert main(["serve", "--python", no_llama_python]) == 2
    out = capsys.readouterr().out.strip()
    assert len(out.splitlines()) == 1
    assert f"{no_llama_python} -m pip install 'llama-cpp-python[server]'" in out and "BAO_LLAMA_PYTHON" in out


def test_an_interpreter_that_does_not_exist_is_named():
    with pytest.raises(ServerUnavailable, match="cannot run /no/such/python"):
        check_llama_cpp("/no/such/python")


def test_a_server_that_exits_before_answering_is_reported():
    proc = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    with pytest.raises(ServerUnavailable, match="exited with status 3 before answering at http://127.0.0.1:9/v1"):
        wait_ready("http://127.0.0.1:9/v1", proc, timeout=30)


def test_a_port_already_in_use_is_refused_before_starting():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(ServerUnavailable, match=f"already listens on 127.0.0.1:{busy.getsockname()[1]}"):
            check_port_free(ServeConfig(port=busy.getsockname()[1]))
