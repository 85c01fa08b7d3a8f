"""The shapes the client parses the server's JSON into: those of aichor.schemas, re-exported.

One definition for both sides of the wire (docs/api.md); pydantic ignores unknown fields, so a
newer server that adds fields does not break an older CLI.
"""

from __future__ import annotations

from aichor.schemas.accounts import (
    InvitationCreated,
    InvitationView,
    LoginView,
    MeView,
    OrganisationRef,
    TokenCreated,
    TokenView,
    UserView,
)
from aichor.schemas.engines import EngineView
from aichor.schemas.experiments import (
    ExperimentPage,
    ExperimentSummary,
    ExperimentView,
    LogLineView,
    LogPage,
    LogRetention,
    ReplicaView,
    StepView,
)
from aichor.schemas.projects import ProjectView, VariableView
from aichor.schemas.storage import AccessKeyCreated, BucketView, ObjectView, StorageView
from aichor.schemas.telemetry import MetricsView, ReplicaListView
from aichor.schemas.webhooks import CommitOutcome, PushResult, WebhookView

__all__ = [
    "AccessKeyCreated",
    "BucketView",
    "CommitOutcome",
    "EngineView",
    "ExperimentPage",
    "ExperimentSummary",
    "ExperimentView",
    "InvitationCreated",
    "InvitationView",
    "LogLineView",
    "LogPage",
    "LogRetention",
    "LoginView",
    "MeView",
    "MetricsView",
    "ObjectView",
    "OrganisationRef",
    "ProjectView",
    "PushResult",
    "ReplicaListView",
    "ReplicaView",
    "StepView",
    "StorageView",
    "TokenCreated",
    "TokenView",
    "UserView",
    "VariableView",
    "WebhookView",
]
