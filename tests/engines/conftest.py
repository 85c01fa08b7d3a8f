"""A LocalEngine per test, on tmp_path; closing it checks that it leaves no process behind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aichor.engines.local import LocalEngine


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[LocalEngine]:
    local = LocalEngine(state_dir=tmp_path / "runs", cache_dir=tmp_path / "cache")
    yield local
    local.close()
