"""/api/experiments/{id}/metrics and /replicas: resource time series and the replica list.
Thin: parse, one service call, the schema back."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from aichor.api.deps import AppSettings, CurrentActor, DbSession
from aichor.schemas.telemetry import MetricsView, ReplicaListView
from aichor.services import telemetry

router = APIRouter(tags=["telemetry"])


@router.get("/api/experiments/{experiment_id}/metrics")
def read_metrics(
    experiment_id: str,
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
    replica: str | None = None,
    since: Annotated[datetime | None, Query(description="Only points after this time.")] = None,
    points: Annotated[
        int | None, Query(ge=1, le=telemetry.MAX_POINTS, description="Downsample to N per replica.")
    ] = None,
) -> MetricsView:
    return telemetry.read_metrics(
        db, actor, experiment_id, settings=settings, replica=replica, since=since, points=points
    )


@router.get("/api/experiments/{experiment_id}/replicas")
def list_replicas(experiment_id: str, db: DbSession, actor: CurrentActor) -> ReplicaListView:
    return telemetry.list_replicas(db, actor, experiment_id)
