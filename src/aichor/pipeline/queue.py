"""The Waiting step: a queue per engine, FIFO within priority, admitting whole gangs only.

An experiment leaves Waiting when the engine's registered capacity (CPUs, memory, GPUs) minus
what its admitted, still active experiments requested can hold its whole gang. The queue is
strict: if the head does not fit, nothing behind it jumps ahead (no starvation of big gangs).
Admission for one engine is serialised by a no-op UPDATE of the engine row, which takes a row
lock on PostgreSQL and the write lock on SQLite, so two workers never over-admit. That lock is
only taken when an unlocked look says the head fits: a full engine with a long queue (woken on
every submission) costs three reads, not a write lock that would hold up the submissions. A
look that misses room freed a moment ago is harmless: whatever frees room wakes the pipeline,
and idle workers look again every poll interval.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Row, func, select, update
from sqlalchemy.orm import Session, selectinload

from aichor.db import tables
from aichor.lifecycle import ExperimentStatus, Step
from aichor.pipeline import transitions

_BATCH = 20
_EPSILON = 1e-9


def engines_with_queue(session: Session) -> list[str]:
    rows = session.scalars(
        select(tables.Experiment.engine_id)
        .where(
            tables.Experiment.status == ExperimentStatus.CREATED,
            tables.Experiment.current_step == Step.WAITING,
        )
        .distinct()
    )
    return list(rows)


def admit(session: Session, engine_id: str) -> int:
    """Admit the head of the engine's queue while it fits; return how many left Waiting."""
    if not _head_fits(session, engine_id):
        return 0
    session.execute(
        update(tables.Engine)
        .where(tables.Engine.id == engine_id)
        .values(name=tables.Engine.name)
        .execution_options(synchronize_session=False)
    )
    engine = session.get(tables.Engine, engine_id, populate_existing=True)
    if engine is None:
        return 0
    used_cpus, used_memory, used_gpus = _used(session, engine_id)
    gpus = sum(int(n) for n in engine.gpus.values())
    admitted = 0
    for row in _queued(session, engine_id, _BATCH):
        cpus = used_cpus + row.requested_cpus
        memory = used_memory + row.requested_memory_gib
        gpu_count = used_gpus + row.requested_gpus
        if (
            cpus > engine.cpus + _EPSILON
            or memory > engine.memory_gib + _EPSILON
            or gpu_count > gpus
        ):
            break
        experiment = session.get(
            tables.Experiment, row.id, options=[selectinload(tables.Experiment.steps)]
        )
        if experiment is None:
            continue
        transitions.admit(session, experiment)
        used_cpus, used_memory, used_gpus = cpus, memory, gpu_count
        admitted += 1
    return admitted


def _head_fits(session: Session, engine_id: str) -> bool:
    """Without any lock: would the head of the queue fit now?"""
    engine = session.get(tables.Engine, engine_id)
    head = _queued(session, engine_id, 1)
    if engine is None or not head:
        return False
    used_cpus, used_memory, used_gpus = _used(session, engine_id)
    return bool(
        used_cpus + head[0].requested_cpus <= engine.cpus + _EPSILON
        and used_memory + head[0].requested_memory_gib <= engine.memory_gib + _EPSILON
        and used_gpus + head[0].requested_gpus <= sum(int(n) for n in engine.gpus.values())
    )


def _used(session: Session, engine_id: str) -> tuple[float, float, int]:
    """What the engine's admitted, still active experiments requested."""
    cpus, memory, gpus = session.execute(
        select(
            func.coalesce(func.sum(tables.Experiment.requested_cpus), 0.0),
            func.coalesce(func.sum(tables.Experiment.requested_memory_gib), 0.0),
            func.coalesce(func.sum(tables.Experiment.requested_gpus), 0),
        ).where(
            tables.Experiment.engine_id == engine_id,
            tables.Experiment.status == ExperimentStatus.PROCESSING,
        )
    ).one()
    return float(cpus), float(memory), int(gpus)


def _queued(session: Session, engine_id: str, limit: int) -> Sequence[Row[str, float, float, int]]:
    """The head of the engine's queue: priority first, then first come first served."""
    return session.execute(
        select(
            tables.Experiment.id,
            tables.Experiment.requested_cpus,
            tables.Experiment.requested_memory_gib,
            tables.Experiment.requested_gpus,
        )
        .where(
            tables.Experiment.engine_id == engine_id,
            tables.Experiment.status == ExperimentStatus.CREATED,
            tables.Experiment.current_step == Step.WAITING,
        )
        .order_by(
            tables.Experiment.priority.desc(),
            tables.Experiment.created_at,
            tables.Experiment.id,
        )
        .limit(limit)
    ).all()
