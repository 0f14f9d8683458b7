"""Shared fixtures: paths to the shared benchmark data and conformance recordings."""

from __future__ import annotations

from pathlib import Path

import pytest

from bao.envs.data import DataError, data_dir

SHARED = Path(__file__).resolve().parents[2] / "shared"


def _has_data() -> bool:
    try:
        data_dir()
        return True
    except DataError:
        return False


needs_data = pytest.mark.skipif(not _has_data(), reason="UserRL data not found (set BAO_DATA_DIR)")


@pytest.fixture
def conformance_dir() -> Path:
    path = SHARED / "conformance"
    if not path.is_dir():
        pytest.skip("shared/conformance not present")
    return path
