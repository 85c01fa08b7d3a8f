"""Experiment rows → `schemas.experiments` views (one query per page, steps preloaded)."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Row, Select, select
from sqlalchemy.orm import selectinload

from aichor.db import tables
from aichor.errors import InvalidInput
from aichor.operators.base import short_name
from aichor.schemas import experiments as schemas


def view_query() -> Select[tables.Experiment, str, str, str]:
    """Experiments with their project name, engine name and user email, steps preloaded."""
    return (
        select(tables.Experiment, tables.Project.name, tables.Engine.name, tables.User.email)
        .join(tables.Project, tables.Project.id == tables.Experiment.project_id)
        .join(tables.Engine, tables.Engine.id == tables.Experiment.engine_id)
        .join(tables.User, tables.User.id == tables.Experiment.user_id)
        .options(selectinload(tables.Experiment.steps))
    )


def summary(row: Row[tables.Experiment, str, str, str]) -> schemas.ExperimentSummary:
    experiment, project, engine, email = row
    return schemas.ExperimentSummary(**_fields(experiment, project, engine, email))


def full_view(
    row: Row[tables.Experiment, str, str, str], replicas: Sequence[tables.Replica]
) -> schemas.ExperimentView:
    experiment, project, engine, email = row
    return schemas.ExperimentView(
        **_fields(experiment, project, engine, email),
        replicas=[
            schemas.ReplicaView(
                name=r.name,
                replica_type=r.replica_type,
                status=r.status,
                exit_code=r.exit_code,
                restarts=r.restarts,
                reason=r.reason,
            )
            for r in sorted(replicas, key=lambda r: r.name)
        ],
    )


def _fields(
    experiment: tables.Experiment, project: str, engine: str, email: str
) -> dict[str, object]:
    return {
        "id": experiment.id,
        "experiment_id": experiment.id,
        "short_name": short_name(experiment.id),
        "project": project,
        "engine": engine,
        "user_email": email,
        "source_kind": experiment.source_kind,
        "commit_sha": experiment.commit_sha,
        "branch": experiment.branch,
        "message": experiment.message,
        "manifest_path": experiment.manifest_path,
        "operator": experiment.operator,
        "status": experiment.status,
        "current_step": experiment.current_step,
        "steps": [
            schemas.StepView(
                step=s.step,
                status=s.status,
                message=s.message,
                started_at=s.started_at,
                finished_at=s.finished_at,
            )
            for s in experiment.steps
        ],
        "requested": schemas.Requested(
            cpus=experiment.requested_cpus,
            memory_gib=experiment.requested_memory_gib,
            gpus=experiment.requested_gpus,
        ),
        "exit_code": experiment.exit_code,
        "failure_reason": experiment.failure_reason,
        "failed_replica": experiment.failed_replica,
        "resubmitted_from": experiment.resubmitted_from,
        "created_at": experiment.created_at,
        "updated_at": experiment.updated_at,
    }


def encode_cursor(experiment: tables.Experiment) -> str:
    raw = f"{experiment.created_at.isoformat()}|{experiment.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        created, experiment_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        return datetime.fromisoformat(created), experiment_id
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidInput("not a cursor from this list", field="cursor") from error
