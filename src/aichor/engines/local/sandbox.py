"""Run a command inside a built image's file view (minimal stand-in; the build owns this module).

`image_environment` gives the environment an image's processes start with; `wrap_command`
gives the argv that runs a command with the image's files at their absolute paths. This first
version handles images without a file tree (`root is None`): no wrapping, cwd unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from aichor.engines.base import ImageRef

_SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def image_environment(image: ImageRef) -> dict[str, str]:
    """PATH with the image's virtualenv first, VIRTUAL_ENV, HOME, then the Dockerfile's ENV."""
    env = {"PATH": _SYSTEM_PATH, "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8"}
    if image.python_env is not None:
        env["PATH"] = f"{image.python_env / 'bin'}{os.pathsep}{_SYSTEM_PATH}"
        env["VIRTUAL_ENV"] = str(image.python_env)
    env.update(image.env)
    return env


def wrap_command(image: ImageRef, argv: Sequence[str]) -> list[str]:
    """The argv to exec so `argv` runs in the image's file view (unchanged without a root)."""
    return list(argv)
