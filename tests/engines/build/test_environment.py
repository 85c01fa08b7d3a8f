"""Real environments built with uv: cache hits and misses, atomic failure, base-image packages.

Uses tiny pure-Python packages from PyPI (six, idna); the uv download cache is shared by the
session (conftest), so only the first run downloads.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from aichor.engines.local.build import base_images, build_image, environment
from aichor.errors import BuildFailed
from tests.engines.build.conftest import WriteRepo, request_for

pytestmark = pytest.mark.slow

DOCKERFILE = "FROM python:3.11-slim\nWORKDIR /app\nCOPY requirements.txt .\n" \
    "RUN pip install -r requirements.txt\nCOPY main.py .\n"  # fmt: skip


def test_unchanged_resubmit_hits_the_cache_and_a_changed_requirement_misses(
    write_repo: WriteRepo, tmp_path: Path
) -> None:
    repo = write_repo({"Dockerfile": DOCKERFILE, "requirements.txt": "six==1.16.0\n",
                       "main.py": "print(1)\n"})  # fmt: skip
    cache = tmp_path / "cache"
    logs: list[str] = []
    first = build_image(request_for(repo), cache_dir=cache, on_log=logs.append)
    assert not first.cached and first.python_env is not None
    assert "environment cache hit" not in "\n".join(logs)
    (repo / "main.py").write_text("print(2)\n")  # code edits need no new environment
    second = build_image(request_for(repo), cache_dir=cache, on_log=logs.append)
    assert second.cached and second.python_env == first.python_env
    assert any(line.startswith("environment cache hit") for line in logs)
    assert second.root != first.root  # but the file tree follows the edit
    assert second.root is not None and (second.root / "app/main.py").read_text() == "print(2)\n"
    (repo / "requirements.txt").write_text("six==1.17.0\n")
    third = build_image(request_for(repo), cache_dir=cache, on_log=logs.append)
    assert not third.cached and third.python_env is not None
    assert third.python_env != first.python_env
    version = subprocess.run(
        [str(third.python_env / "bin/python"), "-c", "import six; print(six.__version__)"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert version.stdout.strip() == "1.17.0"


def test_a_moved_checkout_of_the_same_repository_reuses_the_environment(
    write_repo: WriteRepo, tmp_path: Path
) -> None:
    repo = write_repo({"Dockerfile": DOCKERFILE, "requirements.txt": "six\n", "main.py": ""})
    cache = tmp_path / "cache"
    first = build_image(request_for(repo), cache_dir=cache, on_log=lambda _: None)
    moved = repo.rename(tmp_path / "elsewhere")
    again = build_image(request_for(moved), cache_dir=cache, on_log=lambda _: None)
    assert again.cached and again.python_env == first.python_env


def test_a_failing_install_leaves_no_usable_cache_entry(
    write_repo: WriteRepo, tmp_path: Path
) -> None:
    requirements = "six\naichor-no-such-package-4f1c2e==1.0\n"
    repo = write_repo({"Dockerfile": DOCKERFILE, "main.py": "", "requirements.txt": requirements})
    cache = tmp_path / "cache"
    with pytest.raises(BuildFailed) as caught:
        build_image(request_for(repo), cache_dir=cache, on_log=lambda _: None)
    assert "aichor-no-such-package-4f1c2e" in caught.value.message  # the tail of uv's output
    assert list((cache / "envs").iterdir()) == []  # no half-built env, no leftover temp dir


def test_uv_sync_installs_locked_dependencies_and_imports_the_project_in_place(
    write_repo: WriteRepo, tmp_path: Path
) -> None:
    repo = write_repo({
        "Dockerfile": "FROM python:3.11-slim\nWORKDIR /app\nCOPY pyproject.toml ./\n"
        "RUN uv sync --no-dev\nCOPY src/ ./src/\n",
        "pyproject.toml": "[project]\nname='demo'\nversion='0.1.0'\ndependencies=['idna']\n"
        "[build-system]\nrequires=['hatchling']\nbuild-backend='hatchling.build'\n",
        "src/demo/__init__.py": "",
    })  # fmt: skip
    image = build_image(request_for(repo), cache_dir=tmp_path / "cache", on_log=lambda _: None)
    assert image.python_env is not None
    site = next(image.python_env.glob("lib/python*/site-packages"))
    assert (site / "idna").is_dir()
    assert (site / "_aichor_project.pth").read_text() == "/app/src\n"
    assert not (repo / "uv.lock").exists()  # the researcher's repository is never written


@pytest.mark.parametrize(
    ("image", "packages", "python"),
    [
        ("rayproject/ray:2.9.0-py310-cpu", ("ray[default]==2.9.0",), "3.10"),
        ("docker.io/rayproject/ray:latest", ("ray[default]",), None),
        ("pytorch/pytorch:2.3.0-cuda12.1-cudnn8-runtime", ("torch==2.3.0",), None),
        ("python:3.12-slim@sha256:abc", (), "3.12"),
        ("library/python:3.11", (), "3.11"),
        ("ghcr.io/astral-sh/uv:python3.11-bookworm-slim", (), "3.11"),
        ("nvcr.io/nvidia/pytorch:24.05-py3", ("torch",), None),
        ("ubuntu:22.04", (), None),
    ],
)
def test_base_image_table(image: str, packages: tuple[str, ...], python: str | None) -> None:
    described = base_images.describe(image)
    assert (described.packages, described.python) == (packages, python)


def test_an_uninstallable_base_pin_falls_back_to_the_nearest_version(tmp_path: Path) -> None:
    logs: list[str] = []
    venv, cached = environment.ensure_environment(
        "k" * 64, ["six==1.16.99"], [], cache_dir=tmp_path, on_log=logs.append
    )
    assert not cached
    assert any("installing the nearest available version 1.16.0" in line for line in logs)
    assert list(venv.glob("lib/python*/site-packages/six-1.16.0.dist-info"))


def test_a_python_version_difference_is_noted(write_repo: WriteRepo, tmp_path: Path) -> None:
    repo = write_repo({"Dockerfile": "FROM python:3.9-slim\n"})
    logs: list[str] = []
    build_image(request_for(repo), cache_dir=tmp_path / "cache", on_log=logs.append)
    assert any("has Python 3.9; this machine's Python" in line for line in logs)
