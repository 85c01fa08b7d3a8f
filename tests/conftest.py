"""Shared fixtures: an isolated AICHOR_HOME per test, one build cache shared by the whole suite."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
# Environments built for examples are reused across test runs (and across CI runs on a machine).
SHARED_CACHE = ROOT / ".cache" / "aichor-test-cache"
AICHOR = Path(sys.executable).parent / "aichor"


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def aichor_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment for running the `aichor` CLI as a user would, isolated per test."""
    env = dict(os.environ)
    env["AICHOR_HOME"] = str(tmp_path / "home")
    env["AICHOR_CACHE_DIR"] = str(SHARED_CACHE)
    env.pop("COLUMNS", None)
    yield env


@pytest.fixture
def run_cli(aichor_env: dict[str, str]):  # type: ignore[no-untyped-def]
    """Run `aichor ARGS…` in a subprocess and capture its output."""

    def run(*args: str, cwd: Path | None = None, timeout: float = 900) -> CliResult:
        proc = subprocess.run(
            [str(AICHOR), *args],
            cwd=cwd,
            env=aichor_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return CliResult(proc.returncode, proc.stdout, proc.stderr)

    return run


def copy_example(name: str, dest: Path) -> Path:
    """A private copy of a bundled example, so a test may edit it."""
    target = dest / name
    shutil.copytree(EXAMPLES / name, target)
    return target
