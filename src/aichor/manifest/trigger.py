"""Which commit messages start an experiment, and with which manifest (docs/decisions/090).

Pure; called by `services.triggers` for every pushed commit. Only the first line (up to the first
newline, leading blank lines ignored) counts:

- `aichor[<path>]: <message>`: the manifest is `aichor_manifests/<path>` (subfolders allowed,
  `.yaml` added when the path ends in neither `.yaml` nor `.yml`); the keyword is matched
  without regard to case.
- `exp: <message>` (any case) or `EXP <message>` / `EXP: <message>` (upper case, a word of its
  own): the older form, manifest `manifest.yaml` at the repository root.

A path that could leave `aichor_manifests/` (`..`, absolute, backslashes, control characters)
is refused with `InvalidInput`, so a delivery reports the commit as ignored and why.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from aichor.errors import InvalidInput

MANIFESTS_DIR = "aichor_manifests"
LEGACY_MANIFEST = "manifest.yaml"
MAX_PATH = 400
_AICHOR = re.compile(r"^aichor\[(?P<path>[^\]\n]*)\](?P<rest>.*)$", re.IGNORECASE)
_EXP = re.compile(r"^(?:(?i:exp):|EXP(?=\s|$))(?P<message>.*)$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Trigger:
    """A commit message that asks for an experiment."""

    manifest_path: str
    """Relative to the repository root, e.g. `aichor_manifests/resnet/manifest.yaml`."""
    message: str
    """The text after the prefix: the experiment's message."""
    legacy: bool = False


def parse_commit_message(text: str) -> Trigger | None:
    """The trigger in a commit message, None when it asks for nothing.

    Raises InvalidInput when the message has the `aichor[…]` form but is unusable."""
    subject = text.lstrip().split("\n", 1)[0].strip()
    found = _AICHOR.match(subject)
    if found is not None:
        return _aichor(found.group("path"), found.group("rest"))
    legacy = _EXP.match(subject)
    if legacy is not None:
        return Trigger(LEGACY_MANIFEST, legacy.group("message").strip(), legacy=True)
    return None


def _aichor(path: str, rest: str) -> Trigger:
    if not rest.startswith(":"):
        raise InvalidInput(
            "aichor[…] must be followed by ':' and the message, e.g. "
            "'aichor[manifest.yaml]: train'",
            field="message",
        )
    return Trigger(f"{MANIFESTS_DIR}/{manifest_path(path)}", rest[1:].strip(), legacy=False)


def manifest_path(written: str) -> str:
    """The manifest path as written between the brackets, checked and normalised."""
    path = written.strip()
    if not path:
        raise InvalidInput("aichor[] names no manifest", field="manifest_path")
    if len(path) > MAX_PATH:
        raise InvalidInput(
            f"manifest path longer than {MAX_PATH} characters", field="manifest_path"
        )
    if _CONTROL.search(path) or "\\" in path:
        raise InvalidInput(
            f"manifest path {path!r} holds a backslash or a control character",
            field="manifest_path",
        )
    if path.startswith("/") or ".." in path.split("/"):
        raise InvalidInput(
            f"manifest path {path!r} leaves {MANIFESTS_DIR}/", field="manifest_path", value=path
        )
    normal = posixpath.normpath(path)
    if normal in {".", ""} or path.endswith("/"):
        raise InvalidInput(f"manifest path {path!r} names a folder", field="manifest_path")
    if not normal.lower().endswith((".yaml", ".yml")):
        normal += ".yaml"
    return normal
