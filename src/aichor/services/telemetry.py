"""Reading what an experiment's replicas did: resource time series and the replica list.

Called by `aichor.api.telemetry`; every read goes through `access.visible_experiment`, the
same organisation and project check as reading the experiment itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from aichor.db import tables
from aichor.errors import InvalidInput
from aichor.metrics import store
from aichor.schemas.experiments import ReplicaView
from aichor.schemas.telemetry import (
    MetricPointView,
    MetricSeriesView,
    MetricsView,
    ReplicaListView,
)
from aichor.services.access import Actor, visible_experiment
from aichor.settings import Settings

MAX_POINTS = 5000


def read_metrics(
    session: Session,
    actor: Actor,
    experiment_id: str,
    *,
    settings: Settings,
    replica: str | None = None,
    since: datetime | None = None,
    points: int | None = None,
) -> MetricsView:
    """Each replica's samples after `since`, downsampled to at most `points` per replica."""
    experiment = visible_experiment(session, actor, experiment_id)
    if points is not None and not 1 <= points <= MAX_POINTS:
        raise InvalidInput(f"points must be between 1 and {MAX_POINTS}", field="points")
    series = store.read(session, experiment.id, replica=replica, since=since, points=points)
    views = [
        MetricSeriesView(
            replica=name,
            points=[
                MetricPointView(
                    at=p.at,
                    cpu=p.cpu,
                    memory_bytes=p.memory_bytes,
                    gpu_util=p.gpu_util,
                    gpu_memory_bytes=p.gpu_memory_bytes,
                )
                for p in values
            ],
        )
        for name, values in sorted(series.items())
    ]
    latest = max((v[-1].at for v in series.values() if v), default=None)
    return MetricsView(
        experiment_id=experiment.id,
        interval_seconds=settings.metrics_interval_seconds,
        series=views,
        latest=latest,
    )


def list_replicas(session: Session, actor: Actor, experiment_id: str) -> ReplicaListView:
    """Every replica's state, exit code, restarts and reason; which one failed first."""
    experiment = visible_experiment(session, actor, experiment_id)
    rows = session.scalars(
        select(tables.Replica)
        .where(tables.Replica.experiment_id == experiment.id)
        .order_by(tables.Replica.name)
    ).all()
    return ReplicaListView(
        experiment_id=experiment.id,
        status=experiment.status,
        failed_replica=experiment.failed_replica,
        failure_reason=experiment.failure_reason,
        replicas=replica_views(rows, experiment.failed_replica),
    )


def replica_views(rows: Sequence[tables.Replica], failed: str) -> list[ReplicaView]:
    """Replica rows as views, by name; `failed` (the experiment's failed_replica) is flagged."""
    return [
        ReplicaView(
            name=r.name,
            replica_type=r.replica_type,
            status=r.status,
            exit_code=r.exit_code,
            restarts=r.restarts,
            reason=r.reason,
            failed_first=bool(failed) and r.name == failed,
        )
        for r in sorted(rows, key=lambda r: r.name)
    ]
