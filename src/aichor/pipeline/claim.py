"""Claims: which worker owns an experiment right now, as a lease on the experiment row.

A row is due when it is active, past Waiting, and its `claim_expires_at` is empty or past: a
worker that releases a row sets it to the next time to look (the poll interval), and a worker
that dies leaves a lease that simply expires. Claiming is one guarded UPDATE (PostgreSQL picks
the candidate with `FOR UPDATE SKIP LOCKED`; SQLite relies on the compare-and-set alone).
Every write a worker makes goes through `guard`, which renews the lease only if it still owns it.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import psutil
from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session, selectinload

from aichor import crypto
from aichor.db import tables
from aichor.lifecycle import ExperimentStatus, Step, StepStatus
from aichor.pipeline.work import Job, JobStorage
from aichor.settings import Settings
from aichor.storage import records

ACTIVE = (ExperimentStatus.CREATED, ExperimentStatus.PROCESSING)


def worker_id(thread: int) -> str:
    """`host:pid:start:thread`: enough to tell a dead process's claims apart from a live one's."""
    started = int(psutil.Process().create_time())
    return f"{socket.gethostname()}:{os.getpid()}:{started}:{thread}"


def claim_next(session: Session, worker: str, now: datetime, lease: timedelta) -> str | None:
    """Claim one due experiment; return its id, or None when nothing is due."""
    due = (
        select(tables.Experiment.id)
        .where(*_due(now))
        .order_by(tables.Experiment.claim_expires_at.asc().nulls_first())
        .limit(1)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    candidate = session.scalar(due)
    if candidate is None:
        return None
    return candidate if take(session, candidate, worker, now, lease) else None


def take(
    session: Session, experiment_id: str, worker: str, now: datetime, lease: timedelta
) -> bool:
    """The compare-and-set of a claim: True when the row was still due and is now `worker`'s.

    The whole due condition is checked again, not only the lease: on SQLite the candidate is
    read outside any lock, and another worker may finish the experiment (clearing its lease)
    in between; a finished experiment must never be claimed again.
    """
    claimed = session.execute(
        update(tables.Experiment)
        .where(tables.Experiment.id == experiment_id, *_due(now))
        .values(claimed_by=worker, claim_expires_at=now + lease)
        .execution_options(synchronize_session=False)
    )
    return claimed.rowcount == 1  # type: ignore[attr-defined,no-any-return]


def _due(now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        tables.Experiment.status.in_(ACTIVE),
        tables.Experiment.current_step != Step.WAITING,
        or_(
            tables.Experiment.claim_expires_at.is_(None),
            tables.Experiment.claim_expires_at < now,
        ),
    )


def guard(
    session: Session, experiment_id: str, worker: str, until: datetime
) -> tables.Experiment | None:
    """Renew the lease and load the row, or None when this worker no longer owns it."""
    renewed = session.execute(
        update(tables.Experiment)
        .where(tables.Experiment.id == experiment_id, tables.Experiment.claimed_by == worker)
        .values(claim_expires_at=until)
        .execution_options(synchronize_session=False)
    )
    if renewed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return session.scalar(
        select(tables.Experiment)
        .where(tables.Experiment.id == experiment_id)
        .options(selectinload(tables.Experiment.steps))
        .execution_options(populate_existing=True)
    )


def due_now(session: Session, experiment_id: str) -> bool:
    """Make a released, still active experiment due at once; False while a worker holds it
    (its lease is left alone), True once it is due or has ended."""
    made_due = session.execute(
        update(tables.Experiment)
        .where(
            tables.Experiment.id == experiment_id,
            tables.Experiment.claimed_by.is_(None),
            tables.Experiment.status.in_(ACTIVE),
        )
        .values(claim_expires_at=None)
        .execution_options(synchronize_session=False)
    )
    if made_due.rowcount == 1:  # type: ignore[attr-defined]
        return True
    status = session.scalar(
        select(tables.Experiment.status).where(tables.Experiment.id == experiment_id)
    )
    return status not in ACTIVE


def release(session: Session, experiment: tables.Experiment, due: datetime | None) -> None:
    """Give the row back; another worker (or this one) looks again at `due`."""
    experiment.claimed_by = None
    experiment.claim_expires_at = due


def load_job(
    experiment: tables.Experiment,
    session: Session,
    *,
    secret: str,
    settings: Settings | None = None,
) -> Job:
    """The claimed experiment as a `Job`; `secret` (the server's key) decrypts variables;
    with `settings`, the project's storage row is created when missing."""
    project = session.get(tables.Project, experiment.project_id)
    engine = session.get(tables.Engine, experiment.engine_id)
    user = session.get(tables.User, experiment.user_id)
    variables = _variables(session, experiment.project_id, secret)
    storage, storage_secret = _storage(session, settings, project)
    step = Step(experiment.current_step)
    row = next(r for r in experiment.steps if r.step == step)
    return Job(
        id=experiment.id,
        project_id=experiment.project_id,
        project_name=project.name if project else "project",
        repository_url=project.repository_url if project else "",
        engine_name=engine.name if engine else "",
        user_email=user.email if user else "",
        user_name=(user.name or user.email) if user else "",
        source_kind=experiment.source_kind,
        commit_sha=experiment.commit_sha,
        branch=experiment.branch,
        message=experiment.message,
        archive_key=experiment.archive_key,
        manifest_path=experiment.manifest_path,
        manifest_text=experiment.manifest_text,
        workload_name=experiment.workload_name,
        step=step,
        step_status=StepStatus(row.status),
        cancel_requested=experiment.cancel_requested,
        variables=variables.runtime,
        build_variables=variables.build,
        secrets=(*variables.secrets, *storage_secret),
        unreadable=tuple(variables.unreadable),
        storage=storage,
    )


def _storage(
    session: Session, settings: Settings | None, project: tables.Project | None
) -> tuple[JobStorage | None, tuple[str, ...]]:
    """The project's buckets and key, and the key's secret in clear (masked in every line)."""
    if settings is None or project is None:
        return None, ()
    row = records.ensure(session, settings, project)
    secret = records.credentials(settings, row).secret
    storage = JobStorage(row.input_bucket, row.output_bucket, row.access_key_id, secret)
    return storage, (secret,)


@dataclass
class _ProjectVariables:
    runtime: dict[str, str] = field(default_factory=dict)
    build: dict[str, str] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


def _variables(session: Session, project_id: str, secret: str) -> _ProjectVariables:
    """Every project variable in clear (sensitive ones decrypted here, never logged)."""
    found = _ProjectVariables()
    rows = session.scalars(select(tables.Variable).where(tables.Variable.project_id == project_id))
    for row in rows:
        value = row.value
        if row.sensitive:
            try:
                value = crypto.decrypt(secret, row.value)
            except crypto.InvalidToken:
                found.unreadable.append(f"{row.kind}:{row.name}")
                continue
            found.secrets.append(value)
        (found.build if row.kind == "build" else found.runtime)[row.name] = value
    return found


def release_dead_claims(session: Session) -> int:
    """Free the claims of this host's workers whose process is gone (a crash, a SIGKILL)."""
    host = socket.gethostname()
    rows = session.execute(
        select(tables.Experiment.id, tables.Experiment.claimed_by).where(
            tables.Experiment.claimed_by.like(f"{host}:%"),
            tables.Experiment.status.in_(ACTIVE),
        )
    ).all()
    dead = [row.id for row in rows if not _alive(row.claimed_by)]
    if dead:
        session.execute(
            update(tables.Experiment)
            .where(tables.Experiment.id.in_(dead))
            .values(claimed_by=None, claim_expires_at=None)
            .execution_options(synchronize_session=False)
        )
    return len(dead)


def _alive(worker: str) -> bool:
    parts = worker.split(":")
    if len(parts) != 4 or not parts[1].isdigit():
        return True
    try:
        return int(psutil.Process(int(parts[1])).create_time()) == int(parts[2])
    except psutil.Error:
        return False
