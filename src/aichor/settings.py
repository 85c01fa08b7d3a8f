"""Where aichor keeps its state. Built once from the environment and passed down."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """`AICHOR_HOME` (default `~/.aichor`) holds runs, build caches and local buckets."""

    home: Path

    @classmethod
    def from_env(cls) -> Settings:
        home = os.environ.get("AICHOR_HOME") or str(Path.home() / ".aichor")
        return cls(home=Path(home).expanduser().resolve())

    @property
    def runs_dir(self) -> Path:
        return self.home / "runs"

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    @property
    def buckets_dir(self) -> Path:
        return self.home / "buckets"
