"""Run a command inside a built image's file view, with the image's environment variables.

Called by the local engine for every replica. `image_environment` gives the variables a
replica's processes start with (a small allow-list of the caller's, never its whole
environment); `wrap_command` gives the argv that runs a command with the image's files at their
absolute paths (e.g. /app/main.py) and the Dockerfile's WORKDIR as cwd. The namespace work is in
`sandbox_enter.py`, run by path with `python -S -I` so the wrap costs one bare interpreter start.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from aichor.engines.base import ImageRef, Mount

SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Taken from the caller when set: who and where the user is, and the terminal.
_PASSED = ("HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TERM", "TMPDIR", "TZ")
_ENTER = Path(__file__).with_name("sandbox_enter.py")


def image_environment(image: ImageRef) -> dict[str, str]:
    """Allow-listed caller variables, the Dockerfile's ENV, then the image's virtualenv first.

    A Dockerfile `ENV PATH=/app/.venv/bin:$PATH` keeps its entries, behind our environment's
    bin directory, so `python` is always the environment's interpreter.
    """
    env = {name: os.environ[name] for name in _PASSED if name in os.environ}
    env.setdefault("HOME", "/root")
    env.setdefault("LANG", "C.UTF-8")
    env["PATH"] = SYSTEM_PATH
    env.update(image.env)
    if image.python_env is not None:
        env["PATH"] = f"{image.python_env / 'bin'}{os.pathsep}{env['PATH']}"
        env["VIRTUAL_ENV"] = str(image.python_env)
    return env


def wrap_command(image: ImageRef, argv: Sequence[str], mounts: Sequence[Mount] = ()) -> list[str]:
    """The argv to exec so that `argv` runs in the image's file view (unchanged without a root),
    with each of `mounts` bound at its target."""
    if image.root is None:
        return list(argv)
    # The entry module mounts a tmpfs here, inside its own namespace only.
    Path(f"{str(image.root).rstrip('/')}.mnt").mkdir(exist_ok=True)
    binds = [part for m in mounts for part in ("--bind", f"{m.source}={m.target}")]
    return [
        *(sys.executable, "-S", "-I", str(_ENTER), str(image.root), image.workdir),
        *binds,
        "--",
        *argv,
    ]
