"""Write and read per-replica resource samples; thin old ones; downsample series for charts.

Growth is bounded per replica: once a replica has more than `max_points` samples, every other
sample of its older half is deleted, so a long run keeps its whole timeline at a coarser step
for its past and the full rate for its recent past.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from aichor.db import tables
from aichor.replicas import MetricSample

_P = tables.MetricPoint


@dataclass(frozen=True)
class Point:
    """One point of a series (a sample, or the summary of several when downsampled)."""

    at: datetime
    cpu: float
    memory_bytes: int
    gpu_util: float | None
    gpu_memory_bytes: int | None


def write(
    session: Session, experiment_id: str, samples: Sequence[MetricSample], *, max_points: int
) -> None:
    """Insert the samples, then thin the replicas that went over `max_points`."""
    if not samples:
        return
    session.add_all(
        _P(
            experiment_id=experiment_id,
            replica=s.replica,
            at=s.at,
            cpu=s.cpu,
            memory_bytes=s.memory_bytes,
            gpu_util=s.gpu_util,
            gpu_memory_bytes=s.gpu_memory_bytes,
        )
        for s in samples
    )
    session.flush()
    for replica in {s.replica for s in samples}:
        _thin(session, experiment_id, replica, max_points)


def _thin(session: Session, experiment_id: str, replica: str, max_points: int) -> None:
    series = (_P.experiment_id == experiment_id, _P.replica == replica)
    count = session.scalar(select(func.count()).select_from(_P).where(*series)) or 0
    if count <= max_points:
        return
    older = session.scalars(select(_P.id).where(*series).order_by(_P.at, _P.id).limit(count // 2))
    doomed = list(older)[1::2]
    session.execute(
        delete(_P).where(_P.id.in_(doomed)).execution_options(synchronize_session=False)
    )


def read(
    session: Session,
    experiment_id: str,
    *,
    replica: str | None = None,
    since: datetime | None = None,
    points: int | None = None,
) -> dict[str, list[Point]]:
    """replica → its points after `since`, oldest first; at most `points` each when given."""
    query = select(
        _P.replica, _P.at, _P.cpu, _P.memory_bytes, _P.gpu_util, _P.gpu_memory_bytes
    ).where(_P.experiment_id == experiment_id)
    if replica is not None:
        query = query.where(_P.replica == replica)
    if since is not None:
        query = query.where(_P.at > since)
    series: dict[str, list[Point]] = defaultdict(list)
    for row in session.execute(query.order_by(_P.replica, _P.at, _P.id)):
        series[row.replica].append(Point(*row[1:]))
    if points is not None:
        return {name: downsample(values, points) for name, values in series.items()}
    return dict(series)


def downsample(values: Sequence[Point], points: int) -> list[Point]:
    """At most `points` points: consecutive runs of samples merged into one each.

    A merged point carries the time of its last sample, the mean CPU and GPU utilisation, and
    the peak memory (a chart of means would hide the peak that matters for an OOM).
    """
    if points <= 0 or len(values) <= points:
        return list(values)
    merged = []
    for index in range(points):
        chunk = values[index * len(values) // points : (index + 1) * len(values) // points]
        utils = [p.gpu_util for p in chunk if p.gpu_util is not None]
        memories = [p.gpu_memory_bytes for p in chunk if p.gpu_memory_bytes is not None]
        merged.append(
            Point(
                at=chunk[-1].at,
                cpu=sum(p.cpu for p in chunk) / len(chunk),
                memory_bytes=max(p.memory_bytes for p in chunk),
                gpu_util=sum(utils) / len(utils) if utils else None,
                gpu_memory_bytes=max(memories) if memories else None,
            )
        )
    return merged
