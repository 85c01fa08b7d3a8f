"""YAML text → `Manifest`, or `ManifestInvalid` listing every problem with its file and line."""

from __future__ import annotations

import functools
from pathlib import Path

from pydantic import ValidationError

from aichor.manifest.error_messages import describe_errors
from aichor.manifest.issues import ManifestInvalid, ManifestIssue
from aichor.manifest.schema import Manifest
from aichor.manifest.yaml_source import parse_yaml

CACHED_TEXT_LIMIT = 64 * 1024
"""Texts up to this size are remembered once valid (manifests are a few hundred bytes)."""


def load_manifest(text: str, *, source: str = "manifest.yaml") -> Manifest:
    """Parse and validate manifest text; raise `ManifestInvalid` naming file, line and field.

    The same text (from the same file name) is parsed once: the last 128 valid manifests are
    kept, keyed by their exact text, and handed out shared, which is safe because manifest
    models are frozen. A submission, its Building and its Submitting steps all read the same
    text, and a sweep submits one text many times. Invalid text is not remembered (functools'
    cache keeps no exceptions), so each attempt parses it again and gets the same error.
    """
    if len(text) <= CACHED_TEXT_LIMIT:
        return _load_cached(text, source)
    return _load(text, source)


@functools.lru_cache(maxsize=128)
def _load_cached(text: str, source: str) -> Manifest:
    return _load(text, source)


def _load(text: str, source: str) -> Manifest:
    document = parse_yaml(text, source)
    if not isinstance(document.data, dict):
        kind = type(document.data).__name__
        line = document.root.start_mark.line + 1
        issue = ManifestIssue(
            path="", line=line, message=f"top level must be a mapping, not {kind}"
        )
        raise ManifestInvalid(source, [issue])
    try:
        # by_name=False: only the manifest's own spelling (`ramRatio`) is accepted from YAML.
        return Manifest.model_validate(document.data, by_alias=True, by_name=False)
    except ValidationError as exc:
        raise ManifestInvalid(source, describe_errors(exc, document.root)) from None


def load_manifest_file(path: Path) -> Manifest:
    """Read and validate a manifest file (UTF-8); every failure is `ManifestInvalid`."""
    source = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise _unreadable(source, "file not found") from None
    except IsADirectoryError:
        raise _unreadable(source, "is a directory, not a manifest file") from None
    except OSError as exc:
        raise _unreadable(source, f"cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        issue = ManifestIssue(path="", line=line, message=f"not UTF-8 text (byte {exc.start})")
        raise ManifestInvalid(source, [issue]) from None
    return load_manifest(text, source=source)


def _unreadable(source: str, message: str) -> ManifestInvalid:
    return ManifestInvalid(source, [ManifestIssue(path="", line=None, message=message)])
