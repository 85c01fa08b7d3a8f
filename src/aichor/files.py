"""Files that other threads and processes read while they are rewritten."""

from __future__ import annotations

import json
import os
from pathlib import Path


def write_json(path: Path, value: object) -> None:
    """`value` as JSON through a temporary file and an atomic rename: a reader sees the old
    file or the new one, never half of one."""
    temporary = path.with_name(f"{path.name}.tmp")
    temporary.write_text(json.dumps(value) + "\n")
    os.replace(temporary, path)
