"""Applying a look at a running workload: replica rows, the final status, the usage record.

Called by the reconciler inside its guarded apply session.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from aichor.db import tables
from aichor.lifecycle import ExperimentStatus, Step
from aichor.metrics import store as metrics_store
from aichor.operators.base import short_name
from aichor.pipeline import claim, transitions
from aichor.pipeline.work import Result
from aichor.replicas import ReplicaState


def apply_outcome(
    session: Session,
    experiment: tables.Experiment,
    result: Result,
    due: datetime,
    *,
    max_points: int = 2000,
) -> bool:
    """Replica rows and resource samples (at most `max_points` kept per replica); then either
    release until `due` or finish the experiment. Always False."""
    record_replicas(session, experiment.id, result.replicas)
    metrics_store.write(session, experiment.id, result.samples, max_points=max_points)
    outcome = result.outcome
    if outcome is None:
        claim.release(session, experiment, due)
        return False
    experiment.exit_code = outcome.exit_code
    experiment.failed_replica = outcome.failed_replica or ""
    transitions.finish(session, experiment, ExperimentStatus(outcome.status), outcome.reason)
    record_usage(session, experiment)
    return False


def record_replicas(session: Session, experiment_id: str, states: list[ReplicaState]) -> None:
    if not states:
        return
    rows = {
        row.name: row
        for row in session.scalars(
            select(tables.Replica).where(tables.Replica.experiment_id == experiment_id)
        )
    }
    for state in states:
        row = rows.get(state.name)
        if row is None:
            row = tables.Replica(
                experiment_id=experiment_id,
                name=state.name,
                replica_type=_replica_type(experiment_id, state.name),
                status=state.status,
            )
            session.add(row)
        row.status = state.status
        row.exit_code = state.exit_code
        row.restarts = state.restarts
        row.reason = state.reason or ""


def record_usage(session: Session, experiment: tables.Experiment) -> None:
    """CPU, memory and GPU seconds requested while the Running step ran (once)."""
    running = next((r for r in experiment.steps if r.step == Step.RUNNING), None)
    if running is None or running.started_at is None:
        return
    exists = session.scalar(
        select(tables.UsageRecord.id).where(tables.UsageRecord.experiment_id == experiment.id)
    )
    if exists is not None:
        return
    ended = running.finished_at or tables.utcnow()
    seconds = max((ended - running.started_at).total_seconds(), 0.0)
    gpus = experiment.requested_gpus
    session.add(
        tables.UsageRecord(
            organisation_id=experiment.organisation_id,
            project_id=experiment.project_id,
            user_id=experiment.user_id,
            engine_id=experiment.engine_id,
            experiment_id=experiment.id,
            cpu_seconds=experiment.requested_cpus * seconds,
            memory_gib_seconds=experiment.requested_memory_gib * seconds,
            gpu_seconds={"unspecified": gpus * seconds} if gpus else {},
            started_at=running.started_at,
            ended_at=ended,
        )
    )


def _replica_type(experiment_id: str, name: str) -> str:
    """`<workload>-<type>-<index>[-<index>]` → `<type>` (type keys may hold dashes)."""
    prefix = f"{short_name(experiment_id)}-"
    parts = name.removeprefix(prefix).split("-")
    while len(parts) > 1 and parts[-1].isdigit():
        parts.pop()
    return "-".join(parts)
