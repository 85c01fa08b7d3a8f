"""Experiment rows → `schemas.experiments` views.

A single experiment is read as ORM rows (steps preloaded). A list page is read as plain
columns, two queries in all (the page, then its steps), and validated in one call: no ORM
objects are built for the up to 200 experiments and 1,200 steps of a page.
"""

from __future__ import annotations

import base64
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import Row, Select, bindparam, select
from sqlalchemy.orm import Session, selectinload

from aichor.db import tables
from aichor.errors import InvalidInput
from aichor.operators.base import short_name
from aichor.schemas import experiments as schemas
from aichor.services import dashboards
from aichor.services.telemetry import replica_views


def view_query() -> Select[tables.Experiment, str, str, str]:
    """Experiments with their project name, engine name and user email, steps preloaded."""
    return (
        select(tables.Experiment, tables.Project.name, tables.Engine.name, tables.User.email)
        .join(tables.Project, tables.Project.id == tables.Experiment.project_id)
        .join(tables.Engine, tables.Engine.id == tables.Experiment.engine_id)
        .join(tables.User, tables.User.id == tables.Experiment.user_id)
        .options(selectinload(tables.Experiment.steps))
    )


_E = tables.Experiment
_PAGE_COLUMNS = (
    _E.id,
    _E.source_kind,
    _E.commit_sha,
    _E.branch,
    _E.message,
    _E.manifest_path,
    _E.operator,
    _E.status,
    _E.current_step,
    _E.requested_cpus,
    _E.requested_memory_gib,
    _E.requested_gpus,
    _E.exit_code,
    _E.failure_reason,
    _E.failed_replica,
    _E.resubmitted_from,
    _E.created_at,
    _E.updated_at,
)


_PAGE = (
    select(*_PAGE_COLUMNS, tables.Engine.name.label("engine"), tables.User.email)
    .join(tables.Engine, tables.Engine.id == _E.engine_id)
    .join(tables.User, tables.User.id == _E.user_id)
)


def page_query() -> Select[*tuple[Any, ...]]:
    """The columns of a list item, with the engine name and the user email (no steps)."""
    return _PAGE


_S = tables.ExperimentStep
_PAGE_STEPS = (
    select(_S.experiment_id, _S.step, _S.status, _S.message, _S.started_at, _S.finished_at)
    .where(_S.experiment_id.in_(bindparam("ids", expanding=True)))
    .order_by(_S.experiment_id, _S.position)
)
"""Built once, with the page's ids bound at execution: a statement with an IN of 50 literal
values costs more to build than to run."""


def page_items(
    session: Session, rows: Sequence[Row[*tuple[Any, ...]]], project: str
) -> list[schemas.ExperimentSummary]:
    """The summaries of `page_query` rows, their steps read in one query (fetched at once:
    a page has up to 1,200 steps, and fetching them one by one costs more than the query)."""
    steps: dict[str, list[dict[str, object]]] = defaultdict(list)
    if rows:
        found = session.connection().execute(_PAGE_STEPS, {"ids": [r.id for r in rows]}).all()
        for experiment_id, name, status, message, started, finished in found:
            steps[experiment_id].append(
                {
                    "step": name,
                    "status": status,
                    "message": message,
                    "started_at": started,
                    "finished_at": finished,
                }
            )
    keys = [column.key for column in _PAGE_COLUMNS]
    items = []
    for r in rows:
        item = dict(zip(keys, r, strict=False))
        experiment_id = item["id"]
        item.update(
            experiment_id=experiment_id,
            short_name=short_name(experiment_id),
            project=project,
            engine=r[-2],
            user_email=r[-1],
            steps=steps[experiment_id],
            requested={
                "cpus": item.pop("requested_cpus"),
                "memory_gib": item.pop("requested_memory_gib"),
                "gpus": item.pop("requested_gpus"),
            },
        )
        items.append(item)
    return _SUMMARIES.validate_python(items)


_SUMMARIES = TypeAdapter(list[schemas.ExperimentSummary])


def new_view(
    row: Mapping[str, Any],
    steps: Sequence[Mapping[str, Any]],
    project: str,
    engine: str,
    email: str,
) -> schemas.ExperimentView:
    """The view of an experiment just inserted, from its row and step rows (no replicas yet);
    `email` is the submitter's."""
    item = {key: row[key] for key in _SUMMARY_KEYS}
    item.update(
        experiment_id=row["id"],
        short_name=short_name(row["id"]),
        project=project,
        engine=engine,
        user_email=email,
        author=row["author"] or email,
        triggered_by=row["triggered_by"] or "",
        steps=steps,
        requested={
            "cpus": row["requested_cpus"],
            "memory_gib": row["requested_memory_gib"],
            "gpus": row["requested_gpus"],
        },
        replicas=[],
    )
    return schemas.ExperimentView.model_validate(item)


_SUMMARY_KEYS = [
    column.key
    for column in _PAGE_COLUMNS
    if column.key not in {"requested_cpus", "requested_memory_gib", "requested_gpus"}
]


def full_view(
    row: Row[tables.Experiment, str, str, str], replicas: Sequence[tables.Replica]
) -> schemas.ExperimentView:
    experiment, project, engine, email = row
    return schemas.ExperimentView(
        **_fields(experiment, project, engine, email),
        replicas=replica_views(list(replicas), experiment.failed_replica),
        **dashboards.links(experiment),
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
        "author": experiment.author or email,
        "triggered_by": experiment.triggered_by or "",
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
        "logs_purged_at": experiment.logs_purged_at,
        "created_at": experiment.created_at,
        "updated_at": experiment.updated_at,
    }


def encode_cursor(created_at: datetime, experiment_id: str) -> str:
    raw = f"{created_at.isoformat()}|{experiment_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        created, experiment_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        return datetime.fromisoformat(created), experiment_id
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidInput("not a cursor from this list", field="cursor") from error
