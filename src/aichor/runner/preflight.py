"""Checks made before anything starts, so bad input fails in a second with a clear message."""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

from aichor.engines.base import ImageRef
from aichor.engines.local.sandbox import image_environment
from aichor.errors import InvalidInput

# Words a shell runs itself: a command starting with one of them cannot be checked up front.
_SHELL_WORDS = frozenset(
    {"cd", "export", "exec", ".", "source", "set", "if", "for", "while", "env", "(", "{", "!"}
)


def check_command(command: str, image: ImageRef, operator: str) -> None:
    """Reject a `spec.command` whose program is not in the experiment's environment."""
    if not command.strip():
        raise InvalidInput("spec.command: must not be empty", field="spec.command")
    program = _program(command)
    if program is None:
        return
    env = image_environment(image)
    if "/" in program:
        if not _exists_in_image(program, image):
            raise InvalidInput(
                f"spec.command: {program!r} does not exist in the experiment's files",
                field="spec.command",
                value=program,
            )
        return
    if shutil.which(program, path=env.get("PATH", "")) is None:
        raise InvalidInput(
            f"spec.command: {program!r} is not a command in the experiment environment "
            f"(searched PATH={env.get('PATH', '')})",
            field="spec.command",
            value=program,
        )


def _program(command: str) -> str | None:
    """The program a shell would run first, or None when the command is not a simple one."""
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    if not words or words[0] in _SHELL_WORDS or "=" in words[0]:
        return None
    if any(ch in words[0] for ch in "$`*?;&|<>"):
        return None
    return words[0]


def _exists_in_image(program: str, image: ImageRef) -> bool:
    """Look the path up as the container would see it: absolute from `/`, else from WORKDIR."""
    if image.root is None:
        return True  # no image file tree to check against: let the shell report it
    if program.startswith("/"):
        inside = image.root / program.lstrip("/")
        return inside.exists() or Path(program).exists()
    return (image.root / image.workdir.lstrip("/") / program).exists()
