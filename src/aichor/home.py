"""The state folder (`AICHOR_HOME`, default `~/.aichor`) as the offline runner sees it.

`aichor run` needs only these paths; reading them without pydantic-settings keeps its start-up
short. The server's `Settings` lays out the same folders under the same home.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class AichorHome:
    """Runs, build caches and local buckets under one folder."""

    root: Path
    cache_override: Path | None = None

    @classmethod
    def from_env(cls) -> AichorHome:
        home = os.environ.get("AICHOR_HOME") or str(Path.home() / ".aichor")
        cache = os.environ.get("AICHOR_CACHE_DIR")
        return cls(
            root=Path(home).expanduser().resolve(),
            cache_override=Path(cache).expanduser().resolve() if cache else None,
        )

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    @property
    def cache_dir(self) -> Path:
        """Built environments; `AICHOR_CACHE_DIR` shares them between homes (tests, CI)."""
        return self.cache_override or self.root / "cache"

    @property
    def buckets_dir(self) -> Path:
        return self.root / "buckets"
