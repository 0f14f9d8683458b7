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
