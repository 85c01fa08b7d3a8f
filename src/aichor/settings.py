"""Where aichor keeps its state. Built once from the environment and passed down."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """`AICHOR_HOME` (default `~/.aichor`) holds runs, build caches and local buckets."""

    home: Path
    cache_override: Path | None = None

    @classmethod
    def from_env(cls) -> Settings:
        home = os.environ.get("AICHOR_HOME") or str(Path.home() / ".aichor")
        cache = os.environ.get("AICHOR_CACHE_DIR")
        return cls(
            home=Path(home).expanduser().resolve(),
            cache_override=Path(cache).expanduser().resolve() if cache else None,
        )

    @property
    def runs_dir(self) -> Path:
        return self.home / "runs"

    @property
    def cache_dir(self) -> Path:
        """Built environments; `AICHOR_CACHE_DIR` shares them between homes (tests, CI)."""
        return self.cache_override or self.home / "cache"

    @property
    def buckets_dir(self) -> Path:
        return self.home / "buckets"
