"""Fixtures for the local build: a repository writer and one uv download cache per session.

Builds are real (uv, PyPI); the uv cache under .cache/ is kept between runs so tiny packages
(six, idna) are downloaded once.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from aichor.engines.base import BuildRequest

UV_CACHE = Path(__file__).resolve().parents[3] / ".cache" / "uv-build-tests"

WriteRepo = Callable[[dict[str, str]], Path]


@pytest.fixture(scope="session", autouse=True)
def _uv_cache() -> Iterator[None]:
    previous = os.environ.get("UV_CACHE_DIR")
    os.environ["UV_CACHE_DIR"] = str(UV_CACHE)
    yield
    if previous is None:
        os.environ.pop("UV_CACHE_DIR", None)
    else:
        os.environ["UV_CACHE_DIR"] = previous


@pytest.fixture
def write_repo(tmp_path: Path) -> WriteRepo:
    """Write {relative path: text} into a fresh repository directory and return it."""

    def write(files: dict[str, str]) -> Path:
        repo = tmp_path / "repo"
        for name, text in files.items():
            path = repo / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        return repo

    return write


def request_for(repo: Path, **changes: object) -> BuildRequest:
    fields: dict[str, object] = {
        "repo_dir": repo,
        "context_dir": repo,
        "dockerfile": repo / "Dockerfile",
    }
    fields.update(changes)
    return BuildRequest(**fields)  # type: ignore[arg-type]
