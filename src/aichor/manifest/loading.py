"""YAML text → `Manifest`. Placeholder: the manifest work item replaces this module."""

from __future__ import annotations

from pathlib import Path

import yaml

from aichor.errors import InvalidInput, NotFound
from aichor.manifest.schema import Manifest


def load_manifest(text: str, *, source: str = "manifest.yaml") -> Manifest:
    """Parse and validate manifest text; raise InvalidInput naming the file, line and field."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{source}: not valid YAML: {exc}") from None
    return Manifest.model_validate(data)


def load_manifest_file(path: Path) -> Manifest:
    """Read and validate a manifest file."""
    if not path.is_file():
        raise NotFound(f"{path}: manifest not found")
    return load_manifest(path.read_text(encoding="utf-8"), source=str(path))
