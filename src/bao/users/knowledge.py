"""Loading and checking the knowledge sheets that offline users answer from.

Sheets are JSON files shipped with bao (`bao/data/<env>/`). A bad sheet fails at load time with the file,
the record and the field named, never halfway through an episode.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from bao.core.errors import DataError


def sheet_path(env: str, name: str) -> Path:
    """Path of a sheet file shipped in `bao/data/<env>/`."""
    return Path(str(resources.files("bao") / "data" / env / name))


def load_sheet(path: Path) -> Any:
    if not path.exists():
        raise DataError(f"missing knowledge sheet {path}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"malformed JSON in knowledge sheet {path}: {exc}") from None


def field(record: Any, name: str, kind: type | tuple[type, ...], where: str) -> Any:
    """`record[name]`, checked to be of `kind`; the error names the file/record (`where`) and the field."""
    if not isinstance(record, dict):
        raise DataError(f"{where}: expected an object, got {type(record).__name__}")
    if name not in record:
        raise DataError(f"{where}: missing field '{name}'")
    value = record[name]
    if not isinstance(value, kind):
        expected = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise DataError(f"{where}: field '{name}' must be {expected}, got {type(value).__name__}")
    return value


def string_list(record: Any, name: str, where: str, min_len: int = 0) -> tuple[str, ...]:
    values = field(record, name, list, where)
    if len(values) < min_len or not all(isinstance(v, str) and v.strip() for v in values):
        raise DataError(f"{where}: field '{name}' must be a list of at least {min_len} non-empty strings")
    return tuple(values)
