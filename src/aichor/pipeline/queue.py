"""The Waiting step: a queue per engine, FIFO within priority, admitting whole gangs only.

An experiment leaves Waiting when the engine's registered capacity (CPUs, memory, GPUs) minus
what its admitted, still active experiments requested can hold its whole gang. The queue is
strict: if the head does not fit, nothing behind it jumps ahead (no starvation of big gangs).
Admission for one engine is serialised by a no-op UPDATE of the engine row, which takes a row
lock on PostgreSQL and the write lock on SQLite, so two workers never over-admit. That lock is
only taken for an engine whose head an unlocked look (`look`) found fitting: the look is one
read for every engine at once, so a full engine with a long queue, looked at on every worker
loop, costs one statement, not a write lock that would hold up the submissions. A look that
misses room freed a moment ago is harmless: whatever frees room wakes the pipeline, and idle
workers look again every poll interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Label, Row, Select, bindparam, func, select, update
from sqlalchemy.orm import Session, aliased, selectinload

from aichor.db import tables
from aichor.lifecycle import ExperimentStatus, Step
from aichor.pipeline import transitions

_BATCH = 20
_EPSILON = 1e-9


def look(session: Session) -> dict[str, bool]:
    """Without any lock, in one statement: each engine with a queue, and whether the head of
    its queue would fit now."""
    return {
        row.id: _fits(
            (float(row.used_cpus) + row.requested_cpus, row.cpus),
            (float(row.used_memory) + row.requested_memory_gib, row.memory_gib),
            (int(row.used_gpus) + row.requested_gpus, _gpu_count(row.gpus)),
        )
        for row in session.execute(_LOOK)
    }


def admit(session: Session, engine_id: str) -> int:
    """Admit the head of the engine's queue while it fits; return how many left Waiting.
    Takes the engine's lock: call it for an engine whose head `look` found fitting."""
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
    gpus = _gpu_count(engine.gpus)
    admitted = 0
    for row in _queued(session, engine_id, _BATCH):
        cpus = used_cpus + row.requested_cpus
        memory = used_memory + row.requested_memory_gib
        gpu_count = used_gpus + row.requested_gpus
        if not _fits((cpus, engine.cpus), (memory, engine.memory_gib), (gpu_count, gpus)):
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


def _gpu_count(gpus: dict[str, int]) -> int:
    """An engine's GPUs of every product."""
    return sum(int(n) for n in gpus.values())


def _fits(*needed_and_held: tuple[float, float]) -> bool:
    """Each (needed, capacity) pair within capacity (float sums: a small tolerance)."""
    return all(needed <= held + _EPSILON for needed, held in needed_and_held)


def _used(session: Session, engine_id: str) -> tuple[float, float, int]:
    """What the engine's admitted, still active experiments requested."""
    cpus, memory, gpus = session.execute(_USED, {"engine_id": engine_id}).one()
    return float(cpus), float(memory), int(gpus)


def _used_by(engine_id: Any) -> tuple[Label[Any], ...]:
    """Three scalar subqueries, `used_cpus`, `used_memory`, `used_gpus`: the sums over the
    engine's admitted, still active experiments (`engine_id` a value or a correlated column)."""
    active = aliased(tables.Experiment)

    def total(column: Any, zero: float | int, label: str) -> Label[Any]:
        return (
            select(func.coalesce(func.sum(column), zero))
            .where(active.engine_id == engine_id, active.status == ExperimentStatus.PROCESSING)
            .scalar_subquery()
            .label(label)
        )

    return (
        total(active.requested_cpus, 0.0, "used_cpus"),
        total(active.requested_memory_gib, 0.0, "used_memory"),
        total(active.requested_gpus, 0, "used_gpus"),
    )


def _waiting(experiment: Any) -> tuple[ColumnElement[bool], ...]:
    return (
        experiment.status == ExperimentStatus.CREATED,
        experiment.current_step == Step.WAITING,
    )


def _queue_order(experiment: Any) -> tuple[ColumnElement[Any], ...]:
    """Priority first, then first come first served (the id breaks ties)."""
    return (experiment.priority.desc(), experiment.created_at, experiment.id)


def _look_statement() -> Select[Any]:
    """Each engine joined to the head of its queue (a correlated subquery), with what its
    admitted experiments use: built once, it has no parameters."""
    queued = aliased(tables.Experiment)
    head = (
        select(queued.id)
        .where(queued.engine_id == tables.Engine.id, *_waiting(queued))
        .order_by(*_queue_order(queued))
        .limit(1)
        .correlate(tables.Engine)
        .scalar_subquery()
    )
    return select(
        tables.Engine.id,
        tables.Engine.cpus,
        tables.Engine.memory_gib,
        tables.Engine.gpus,
        tables.Experiment.requested_cpus,
        tables.Experiment.requested_memory_gib,
        tables.Experiment.requested_gpus,
        *_used_by(tables.Engine.id),
    ).join(tables.Experiment, tables.Experiment.id == head)


_LOOK = _look_statement()
_USED = select(*_used_by(bindparam("engine_id")))


def _queued(session: Session, engine_id: str, limit: int) -> Sequence[Row[str, float, float, int]]:
    """The head of the engine's queue: priority first, then first come first served."""
    return session.execute(
        select(
            tables.Experiment.id,
            tables.Experiment.requested_cpus,
            tables.Experiment.requested_memory_gib,
            tables.Experiment.requested_gpus,
        )
        .where(tables.Experiment.engine_id == engine_id, *_waiting(tables.Experiment))
        .order_by(*_queue_order(tables.Experiment))
        .limit(limit)
    ).all()
