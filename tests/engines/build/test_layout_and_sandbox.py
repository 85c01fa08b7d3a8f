"""The image's file tree (COPY/ADD/WORKDIR/ENV replayed) and running a command inside it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from aichor.engines.base import ImageRef
from aichor.engines.local.build import build_image
from aichor.engines.local.sandbox import image_environment, wrap_command
from tests.engines.build.conftest import WriteRepo, request_for

DOCKERFILE = """\
FROM python:3.11-slim
ENV APP=/app GREETING="hello world"
WORKDIR $APP
COPY x.txt .
COPY src/ ./src/
COPY conf/*.ini /etc/demo/
COPY a.txt b.txt ./pair/
COPY single.txt /opt/renamed.txt
WORKDIR sub
COPY <<EOT /app/generated.txt
made by a heredoc
EOT
"""

FILES = {
    "Dockerfile": DOCKERFILE,
    "x.txt": "hello from x",
    "src/pkg/__init__.py": "",
    "src/pkg/main.py": "print('main')\n",
    "src/pkg/__pycache__/junk.pyc": "",
    "conf/one.ini": "1",
    "conf/two.ini": "2",
    "conf/skip.txt": "",
    "a.txt": "a",
    "b.txt": "b",
    "single.txt": "s",
    ".dockerignore": "**/__pycache__\n",
}


@pytest.fixture
def image(write_repo: WriteRepo, tmp_path: Path) -> ImageRef:
    repo = write_repo(FILES)
    (repo / ".git").mkdir()
    (repo / ".git" / "HEAD").write_text("ref")
    return build_image(request_for(repo), cache_dir=tmp_path / "cache", on_log=lambda _: None)


def test_copies_workdir_and_env_are_replayed(image: ImageRef) -> None:
    assert image.root is not None
    files = sorted(
        p.relative_to(image.root).as_posix() for p in image.root.rglob("*") if p.is_file()
    )
    assert files == [
        "app/generated.txt", "app/pair/a.txt", "app/pair/b.txt", "app/src/pkg/__init__.py",
        "app/src/pkg/main.py", "app/x.txt", "etc/demo/one.ini", "etc/demo/two.ini",
        "opt/renamed.txt",
    ]  # fmt: skip
    assert (image.root / "app/sub").is_dir()
    assert image.workdir == "/app/sub"
    assert image.env["GREETING"] == "hello world"
    assert (image.root / "app/generated.txt").read_text() == "made by a heredoc\n"


def test_image_environment_puts_the_venv_first_and_keeps_the_caller_out(
    image: ImageRef, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECRET_TOKEN", "do-not-leak")
    env = image_environment(image)
    assert env["PATH"].split(os.pathsep)[0] == f"{image.python_env}/bin"
    assert "/usr/bin" in env["PATH"].split(os.pathsep)
    assert env["VIRTUAL_ENV"] == str(image.python_env)
    assert env["GREETING"] == "hello world"
    assert "SECRET_TOKEN" not in env


def test_a_command_sees_the_image_files_at_absolute_paths_and_runs_in_workdir(
    image: ImageRef,
) -> None:
    code = "import os; print(open('/app/x.txt').read(), os.getcwd()); open('/app/w.txt', 'w')"
    done = subprocess.run(
        wrap_command(image, ["python3", "-c", code]),
        env=image_environment(image), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    if "no private mount namespace" in done.stderr:
        pytest.skip("mount namespaces are not available here: " + done.stderr)
    assert done.stdout.split() == ["hello", "from", "x", "/app/sub"]
    assert image.root is not None
    assert not (image.root / "app/w.txt").exists()  # writes stay in the sandbox, as in a container
    assert Path("/usr/bin").is_dir()  # (the host is untouched)


def test_without_a_root_the_command_is_unchanged() -> None:
    assert wrap_command(ImageRef(ref="x"), ["echo", "hi"]) == ["echo", "hi"]


def test_the_entry_falls_back_to_the_tree_when_namespaces_fail(image: ImageRef) -> None:
    argv = wrap_command(image, ["pwd"])
    entry = argv.index("-I") + 1
    # A workdir that cannot be entered after chroot makes enter() fail like a missing namespace.
    code = (
        "import runpy, sys, os; sys.argv = sys.argv[1:]; "
        "m = runpy.run_path(sys.argv[0]); "
        "m['enter'] = lambda *a: (_ for _ in ()).throw(OSError(1, 'no namespaces')); "
        "m['main'].__globals__['enter'] = m['enter']; m['main'](sys.argv[1:])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *argv[entry:]], capture_output=True, text=True, timeout=60
    )
    assert "absolute paths into the image" in done.stderr
    assert image.root is not None
    assert done.stdout.strip() == str(image.root / "app/sub")
