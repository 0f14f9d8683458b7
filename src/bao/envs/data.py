"""Where the UserRL benchmark data lives and how to read it.

The data directory is `BAO_DATA_DIR` when set, else `../shared/userrl` next to the current directory or the
repository. It is read at run time and never copied into bao.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from functools import lru_cache, wraps
from pathlib import Path
from typing import Any, TypeVar

from bao.core.errors import DataError  # defined below users and envs, which both raise it; imported from here too

T = TypeVar("T")

ENV_VAR = "BAO_DATA_DIR"
_REPO_ROOT = Path(__file__).resolve().parents[3]


def data_dir() -> Path:
    """The UserRL data directory (holding `gyms/` and `splits/`)."""
    return _data_dir(os.environ.get(ENV_VAR), os.getcwd())


@lru_cache(maxsize=8)
def _data_dir(configured: str | None, cwd: str) -> Path:
    """Cached per setting and working directory: cached loaders ask for it on every call (hundreds of thousands
    of times in a scripted turtle run), and each lookup costs several file-system calls."""
    if configured:
        path = Path(configured).expanduser()
        if not path.is_dir():
            raise DataError(f"{ENV_VAR}={configured} is not a directory: point it at the UserRL data folder")
        return path
    for candidate in (Path(cwd) / ".." / "shared" / "userrl", _REPO_ROOT.parent / "shared" / "userrl"):
        if candidate.is_dir():
            return candidate.resolve()
    raise DataError(
        f"UserRL data not found: set {ENV_VAR} to the folder holding gyms/ and splits/ "
        "(default ../shared/userrl)"
    )


def data_file(*parts: str) -> Path:
    """A file inside the data directory; a clear error when it is missing."""
    path = data_dir().joinpath(*parts)
    if not path.exists():
        raise DataError(f"missing data file {path}: check {ENV_VAR} (currently {data_dir()})")
    return path


def load_json(*parts: str) -> Any:
    """Parse a JSON file of the data directory, naming the file when it is malformed."""
    path = data_file(*parts)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"malformed JSON in {path}: {exc}") from None


@lru_cache(maxsize=64)
def _split_rows(path: str) -> tuple[dict[str, Any], ...]:
    import pyarrow.parquet as pq

    try:
        return tuple(pq.read_table(path).to_pylist())
    except Exception as exc:
        raise DataError(f"cannot read split file {path}: {exc}") from None


def per_data_dir(fn: Callable[..., T]) -> Callable[..., T]:
    """Cache `fn` per data directory, so that changing `BAO_DATA_DIR` in a process is honoured."""
    cached = lru_cache(maxsize=32)(lambda _root, *args: fn(*args))

    @wraps(fn)
    def wrapper(*args: Any) -> T:
        return cached(data_dir(), *args)

    wrapper.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
    return wrapper


def load_split(name: str, split: str) -> list[dict[str, Any]]:
    """Rows of `splits/<name>/<split>.parquet` (prompt, reward_model, extra_info)."""
    return list(_split_rows(str(data_file("splits", name, f"{split}.parquet"))))


def prompt_of(row: dict[str, Any]) -> list[dict[str, str]]:
    """The chat messages (role, content) a split row starts the agent with: UserRL's system prompt, then the task."""
    return [{"role": m["role"], "content": m["content"]} for m in row["prompt"]]


def require(record: Any, fields: tuple[str, ...], where: str) -> None:
    """Fail with the file and field named when a data record lacks a field."""
    if not isinstance(record, dict):
        raise DataError(f"{where}: expected an object, got {type(record).__name__}")
    for name in fields:
        if name not in record:
            raise DataError(f"{where}: missing field '{name}'")
