"""SQLAlchemy 2 mapped tables. Every row that belongs to a tenant carries `organisation_id`.

Status columns hold `aichor.lifecycle` values and are written only by `pipeline.transitions`.
Identifiers are UUID strings (portable between SQLite and PostgreSQL).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


def new_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database (SQLite drops the zone when reading)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        """None on PostgreSQL: `timestamptz` values arrive timezone-aware already, and a list
        page reads hundreds of them (two Python calls each otherwise)."""
        if dialect.name == "postgresql":
            return None
        return super().result_processor(dialect, coltype)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime(), dict[str, Any]: JSON}


class Organisation(Base):
    """A fully isolated tenant."""

    __tablename__ = "organisation"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    log_retention_days: Mapped[int] = mapped_column(Integer, default=30)
    """Logs of experiments that ended longer ago are purged (services.log_retention)."""
    prices: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """{"cpu_hour": 0.05, "memory_gib_hour": 0.005, "gpu_hour": {"<product>": 2.5}}"""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Base):
    __tablename__ = "user_account"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    """Stored lower-case."""
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(String(200))
    """argon2 hash; None until the invited user sets a password."""
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Membership(Base):
    """A user in an organisation with roles: User, OrganizationAdmin, InfrastructureAdmin,
    FinOpsAdmin."""

    __tablename__ = "membership"
    __table_args__ = (
        UniqueConstraint("organisation_id", "user_id"),
        Index("ix_membership_user", "user_id"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Invitation(Base):
    __tablename__ = "invitation"
    __table_args__ = (Index("ix_invitation_org_created", "organisation_id", "created_at"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320))
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    project_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    """sha256 of the link's token; the token itself is shown once and never stored."""
    invited_by: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"))
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Engine(Base):
    """A compute engine registered by an Infrastructure Admin, with its capacity."""

    __tablename__ = "engine"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    """`local`, later `docker` and `kubernetes`."""
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    cpus: Mapped[float] = mapped_column(Float)
    memory_gib: Mapped[float] = mapped_column(Float)
    gpus: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """GPU count by product, e.g. {"Tesla-V100": 4}."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Project(Base):
    __tablename__ = "project"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    vcs_provider: Mapped[str] = mapped_column(String(20), default="git")
    repository_url: Mapped[str] = mapped_column(String(500), default="")
    webhook_secret: Mapped[str] = mapped_column(Text, default="")
    """The webhook secret encrypted with `aichor.crypto` (WEBHOOKS); empty until first shown."""
    default_engine_id: Mapped[str | None] = mapped_column(ForeignKey("engine.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProjectStorage(Base):
    """A project's two buckets and its S3 access keys (created on first use, see
    `aichor.storage.records`); the secret is a Fernet token derived from the server's secret."""

    __tablename__ = "project_storage"
    project_id: Mapped[str] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), primary_key=True
    )
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    input_bucket: Mapped[str] = mapped_column(String(63))
    output_bucket: Mapped[str] = mapped_column(String(63))
    access_key_id: Mapped[str] = mapped_column(String(40), unique=True)
    """The workloads' key: injected into every replica, never shown."""
    secret_key: Mapped[str] = mapped_column(Text)
    """Fernet token of the secret access key (the pipeline and the S3 endpoint need it)."""
    user_key_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    """The key issued to members (`aichor storage keys`); its secret is shown once."""
    user_secret_key: Mapped[str | None] = mapped_column(Text)
    rotated_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProjectEngine(Base):
    __tablename__ = "project_engine"
    project_id: Mapped[str] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), primary_key=True
    )
    engine_id: Mapped[str] = mapped_column(
        ForeignKey("engine.id", ondelete="CASCADE"), primary_key=True
    )


class ProjectMember(Base):
    __tablename__ = "project_member"
    __table_args__ = (Index("ix_project_member_user", "user_id"),)
    project_id: Mapped[str] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )


class Variable(Base):
    """A project variable; sensitive values are encrypted at rest and never returned."""

    __tablename__ = "variable"
    __table_args__ = (UniqueConstraint("project_id", "kind", "name"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    project_id: Mapped[str] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))
    """`runtime` or `build`."""
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    value: Mapped[str] = mapped_column(Text)
    """Plain text, or a Fernet token when sensitive."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiToken(Base):
    """A bearer token (`kind` api) or a browser session (`kind` session); only its hash is kept."""

    __tablename__ = "api_token"
    __table_args__ = (Index("ix_api_token_user", "organisation_id", "user_id"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(10), default="api")
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    """First characters of the token, shown to tell tokens apart."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class LoginFailure(Base):
    """One failed login, kept for the rate limit window (shared by every server process)."""

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_email_at", "email", "at"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(320))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Experiment(Base):
    __tablename__ = "experiment"
    __table_args__ = (
        Index("ix_experiment_project_page", "project_id", "created_at", "id"),
        Index("ix_experiment_queue", "engine_id", "status", "priority", "created_at"),
        Index("ix_experiment_due", "status", "current_step", "claim_expires_at"),
        Index("ux_experiment_trigger", "project_id", "trigger_key", unique=True),
        Index("ix_experiment_logs_kept", "logs_purged_at", "finished_at"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    project_id: Mapped[str] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    engine_id: Mapped[str] = mapped_column(ForeignKey("engine.id"))
    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id"))
    source_kind: Mapped[str] = mapped_column(String(10))
    """`commit` or `archive`."""
    commit_sha: Mapped[str] = mapped_column(String(64), default="")
    branch: Mapped[str] = mapped_column(String(200), default="")
    author: Mapped[str] = mapped_column(String(320), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    archive_key: Mapped[str] = mapped_column(String(500), default="")
    manifest_path: Mapped[str] = mapped_column(String(500))
    manifest_text: Mapped[str] = mapped_column(Text, default="")
    operator: Mapped[str] = mapped_column(String(20), default="")
    requested_cpus: Mapped[float] = mapped_column(Float, default=0)
    requested_memory_gib: Mapped[float] = mapped_column(Float, default=0)
    requested_gpus: Mapped[int] = mapped_column(Integer, default=0)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20))
    current_step: Mapped[str] = mapped_column(String(20))
    workload_name: Mapped[str] = mapped_column(String(100), default="")
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claim_expires_at: Mapped[datetime | None]
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    exit_code: Mapped[int | None]
    failure_reason: Mapped[str] = mapped_column(Text, default="")
    failed_replica: Mapped[str] = mapped_column(String(200), default="")
    resubmitted_from: Mapped[str | None] = mapped_column(String(36))
    trigger_key: Mapped[str | None] = mapped_column(String(64))
    """sha256 of (commit, manifest) for experiments started by a push: one per project."""
    triggered_by: Mapped[str] = mapped_column(String(20), default="")
    """The webhook provider (`github`, `git`, ...) that started it; empty when submitted."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    logs_purged_at: Mapped[datetime | None]
    """When the organisation's log retention deleted this experiment's logs."""
    steps: Mapped[list[ExperimentStep]] = relationship(
        back_populates="experiment", order_by="ExperimentStep.position", cascade="all"
    )


class WebhookDelivery(Base):
    """One push delivery received for a project; a redelivery of the same id is answered from
    `result` and creates nothing."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (UniqueConstraint("project_id", "provider", "delivery_id"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    project_id: Mapped[str] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(20))
    delivery_id: Mapped[str] = mapped_column(String(200))
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExperimentStep(Base):
    """One of Waiting, Cloning, Building, Submitting, Running, Completed; its log is a file."""

    __tablename__ = "experiment_step"
    __table_args__ = (UniqueConstraint("experiment_id", "step"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    experiment_id: Mapped[str] = mapped_column(ForeignKey("experiment.id", ondelete="CASCADE"))
    step: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    experiment: Mapped[Experiment] = relationship(back_populates="steps")


class Replica(Base):
    __tablename__ = "replica"
    __table_args__ = (UniqueConstraint("experiment_id", "name"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    experiment_id: Mapped[str] = mapped_column(ForeignKey("experiment.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    replica_type: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20))
    exit_code: Mapped[int | None]
    restarts: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


_ROW_ID = BigInteger().with_variant(Integer(), "sqlite")
"""An auto-incrementing row id: BIGINT on PostgreSQL, INTEGER (the rowid) on SQLite."""


class MetricPoint(Base):
    """One resource sample of one replica; kept per replica up to `Settings.metrics_max_points`
    (older points are thinned out, see `aichor.metrics.store`)."""

    __tablename__ = "metric_point"
    __table_args__ = (Index("ix_metric_point_series", "experiment_id", "replica", "at"),)
    id: Mapped[int] = mapped_column(_ROW_ID, primary_key=True, autoincrement=True)
    experiment_id: Mapped[str] = mapped_column(ForeignKey("experiment.id", ondelete="CASCADE"))
    replica: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime]
    cpu: Mapped[float] = mapped_column(Float)
    """Cores in use (1.0 = one core busy)."""
    memory_bytes: Mapped[int] = mapped_column(BigInteger)
    gpu_util: Mapped[float | None] = mapped_column(Float)
    gpu_memory_bytes: Mapped[int | None] = mapped_column(BigInteger)


class UsageRecord(Base):
    """Resources requested while an experiment ran, priced later by the organisation's rates."""

    __tablename__ = "usage_record"
    __table_args__ = (Index("ix_usage_org_ended", "organisation_id", "ended_at"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    project_id: Mapped[str] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id"))
    engine_id: Mapped[str] = mapped_column(ForeignKey("engine.id"))
    experiment_id: Mapped[str] = mapped_column(
        ForeignKey("experiment.id", ondelete="CASCADE"), unique=True
    )
    cpu_seconds: Mapped[float] = mapped_column(Float, default=0)
    memory_gib_seconds: Mapped[float] = mapped_column(Float, default=0)
    gpu_seconds: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """GPU-seconds by product."""
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime]


class AuditEvent(Base):
    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_org_at", "organisation_id", "at"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organisation_id: Mapped[str | None] = mapped_column(String(36))
    user_id: Mapped[str | None] = mapped_column(String(36))
    action: Mapped[str] = mapped_column(String(100))
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    at: Mapped[datetime] = mapped_column(default=utcnow)
