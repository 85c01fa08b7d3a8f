"""Engines (compute capacity an Infrastructure Admin registers) on the wire."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from aichor.schemas.projects import NAME_PATTERN


class CreateEngine(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=NAME_PATTERN)
    kind: Literal["local"] = "local"
    cpus: float = Field(gt=0, description="CPUs the engine can place at once.")
    memory_gib: float = Field(gt=0)
    gpus: dict[str, int] = Field(default_factory=dict, description="GPU count by product.")
    settings: dict[str, Any] = Field(default_factory=dict)


class UpdateEngine(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, pattern=NAME_PATTERN)
    cpus: float | None = Field(None, gt=0)
    memory_gib: float | None = Field(None, gt=0)
    gpus: dict[str, int] | None = None
    settings: dict[str, Any] | None = None


class EngineView(BaseModel):
    id: str
    name: str
    kind: str
    cpus: float
    memory_gib: float
    gpus: dict[str, int]
    settings: dict[str, Any]
    created_at: datetime
