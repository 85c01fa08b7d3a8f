"""The shapes the client parses the server's JSON into (docs/api.md).

Experiments come from aichor.schemas.experiments; the account, project and engine shapes are
defined here until their aichor.schemas modules land. All ignore unknown fields, so that a
newer server does not break an older CLI.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from aichor.schemas.experiments import (
    ExperimentPage,
    ExperimentSummary,
    ExperimentView,
    LogLineView,
    LogPage,
    ReplicaView,
    StepView,
)

__all__ = [
    "EngineView",
    "ExperimentPage",
    "ExperimentSummary",
    "ExperimentView",
    "InvitationView",
    "LogLineView",
    "LogPage",
    "LoginView",
    "MeView",
    "OrganisationRef",
    "ProjectView",
    "ReplicaView",
    "StepView",
    "TokenView",
    "UserView",
    "VariableView",
]


class _View(BaseModel):
    model_config = ConfigDict(extra="ignore")


class OrganisationRef(_View):
    id: str
    name: str


class UserView(_View):
    id: str
    email: str
    name: str | None = None
    roles: list[str] = []


class MeView(UserView):
    organisation: OrganisationRef


class LoginView(_View):
    token: str
    user: UserView
    organisation: OrganisationRef


class TokenView(_View):
    id: str
    name: str
    prefix: str | None = None
    token: str | None = None
    created_at: datetime | None = None


class InvitationView(_View):
    id: str
    email: str
    link: str | None = None
    expires_at: datetime | None = None


class ProjectView(_View):
    id: str
    name: str
    vcs_provider: str | None = None
    repository_url: str | None = None
    engine_ids: list[str] = []
    default_engine_id: str | None = None


class EngineView(_View):
    id: str
    name: str
    kind: str
    cpus: float | None = None
    memory_gib: float | None = None
    gpus: dict[str, int] = {}
    settings: dict[str, Any] = {}


class VariableView(_View):
    id: str
    name: str
    value: str | None = None
    kind: str = "runtime"
    sensitive: bool = False
