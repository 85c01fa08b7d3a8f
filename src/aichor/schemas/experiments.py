"""Experiments on the wire: submissions, views, pages of the list and of the logs."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class SubmitCommit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    commit_sha: str = Field(min_length=4, max_length=64, pattern=r"^[0-9a-fA-F]+$")
    branch: str | None = Field(None, max_length=200)
    manifest_path: str = Field("manifest.yaml", min_length=1, max_length=500)
    message: str | None = None
    engine: str | None = None


class StepView(BaseModel):
    step: str
    status: str
    message: str
    started_at: datetime | None
    finished_at: datetime | None


class ReplicaView(BaseModel):
    name: str
    replica_type: str
    status: str
    exit_code: int | None
    restarts: int
    """Times the engine restarted this replica (the local engine restarts the whole gang)."""
    reason: str
    """Why it failed or was stopped, e.g. `exited with code 3`; empty while all is well."""
    failed_first: bool = False
    """True for the replica whose failure ended the experiment (`failed_replica`)."""


class Requested(BaseModel):
    cpus: float
    memory_gib: float
    gpus: int


class ExperimentSummary(BaseModel):
    id: str
    experiment_id: str
    short_name: str
    project: str
    engine: str
    user_email: str
    source_kind: str
    commit_sha: str
    branch: str
    message: str
    manifest_path: str
    operator: str
    status: str
    current_step: str
    steps: list[StepView]
    requested: Requested
    exit_code: int | None
    failure_reason: str
    failed_replica: str
    resubmitted_from: str | None
    logs_purged_at: datetime | None = None
    """When the organisation's log retention deleted the logs (None: still kept)."""
    created_at: datetime
    updated_at: datetime


class ExperimentView(ExperimentSummary):
    replicas: list[ReplicaView]
    tensorboard_url: str | None = None
    """Path of the proxied TensorBoard when the manifest enables it (started on first visit)."""
    ray_dashboard_url: str | None = None
    """Path of the proxied Ray dashboard of a running kuberay experiment."""
    author: str = Field("", description="The commit's git author (the submitter otherwise).")
    triggered_by: str = Field(
        "", description="The webhook provider whose push started it; empty when submitted."
    )


class ExperimentPage(BaseModel):
    items: list[ExperimentSummary]
    next_cursor: str | None


class LogLineView(BaseModel):
    timestamp: datetime
    source: str
    text: str


class LogPage(BaseModel):
    lines: list[LogLineView]
    next: int
    """Byte offset where the next line of this stream starts: pass it back as `after`."""
    finished: bool
    purged_at: datetime | None = None
    """Set when the logs were deleted by the organisation's retention (no lines then)."""


class LogRetention(BaseModel):
    model_config = ConfigDict(extra="forbid")
    days: int = Field(ge=1, le=3650, description="Days logs are kept after an experiment ends.")
