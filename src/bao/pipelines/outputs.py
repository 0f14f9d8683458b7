"""Checks on where a run will write, made before it loads a model or plays an episode."""

from __future__ import annotations

import tempfile
from pathlib import Path


def check_writable(folder: Path, what: str) -> None:
    """Fail with one line unless a file can be created in `folder` (or, if it does not exist yet, in its nearest
    existing ancestor, where it would be created). Permission bits do not tell (root writes read-only
    folders, a read-only mount refuses everyone), so this creates and deletes a probe file."""
    existing = next(p for p in (folder.absolute(), *folder.absolute().parents) if p.exists())
    if not existing.is_dir():
        raise ValueError(f"{what}: cannot write there, {existing} is a file")
    try:
        with tempfile.NamedTemporaryFile(dir=existing, prefix=".bao-probe-"):
            pass
    except OSError as exc:
        raise ValueError(f"{what}: cannot write in {existing} ({exc.strerror or exc})") from None
