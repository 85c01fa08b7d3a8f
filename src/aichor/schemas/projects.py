"""Projects, their members and variables on the wire."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"


class CreateProject(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=NAME_PATTERN, description="Unique in the organisation.")
    vcs_provider: str = Field("git", max_length=20)
    repository_url: str = Field("", max_length=500)
    engine_ids: list[str] = []
    default_engine_id: str | None = None


class UpdateProject(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, pattern=NAME_PATTERN)
    vcs_provider: str | None = Field(None, max_length=20)
    repository_url: str | None = Field(None, max_length=500)
    engine_ids: list[str] | None = None
    default_engine_id: str | None = None


class ProjectView(BaseModel):
    id: str
    name: str
    vcs_provider: str
    repository_url: str
    engine_ids: list[str]
    default_engine_id: str | None
    member_ids: list[str]
    created_at: datetime


class CreateVariable(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    value: str = Field(max_length=65536)
    kind: Literal["runtime", "build"] = "runtime"
    sensitive: bool = False


class VariableView(BaseModel):
    id: str
    name: str
    kind: str
    sensitive: bool
    value: str | None = Field(description="null when sensitive: those are never returned.")
    created_at: datetime
