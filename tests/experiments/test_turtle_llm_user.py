"""experiments/turtle_llm_user.py against the scripted fake endpoint only (a few questions, no real model)."""

import importlib.util
import json
from pathlib import Path

import pytest

from tests.conftest import needs_data

pytest.importorskip("openai")

from tests.users.llm_server import scripted_server  # noqa: E402

SCRIPT = Path(__file__).resolve().parents[2] / "experiments" / "turtle_llm_user.py"


def _script():
    spec = importlib.util.spec_from_file_location("turtle_llm_user", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@needs_data
def test_the_script_measures_reply_rates_on_a_paraphrase_split(tmp_path, capsys):
    script = _script()
    out = tmp_path / "result.json"
    with scripted_server() as server:
        assert script.main(["--base-url", server.base_url, "--model", "scripted", "--split", "test", "--limit", "6",
                            "--out", str(out)]) == 0
    result = json.loads(out.read_text())["results"][0]
    records = script.paraphrases("test")[:6]
    # the scripted user says "No" to questions with "not", else "Yes": the rates follow from the expected replies
    said = ["No" if " not " in f" {r['question']} " else "Yes" for r in records]
    right = sum(s == r["expected"] for s, r in zip(said, records))
    assert result["questions"] == 6 == len(server.requests)
    assert result["reply_rate"] == pytest.approx(right / 6, abs=1e-4) and result["fallbacks"] == 0
    assert 0.0 <= result["offline_reply_rate"] <= 1.0
    assert "test: 6 questions" in capsys.readouterr().out


@needs_data
def test_paraphrases_expect_the_facts_answer_or_maybe_off_sheet():
    records = _script().paraphrases("dev")
    assert {r["expected"] for r in records} <= {"Yes", "No", "Maybe"}
    assert all((r["expected"] == "Maybe") == (not r.get("fact")) for r in records)
