"""The metric store on SQLite and PostgreSQL: samples come back per replica in time order,
`since` returns only newer points, charts get at most N points with the peak memory kept,
and a replica's series stays under its cap while still spanning the whole run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from aichor.db import tables
from aichor.db.session import Session
from aichor.metrics import store
from aichor.replicas import MetricSample

START = datetime(2026, 11, 30, 12, tzinfo=UTC)


def _experiment(db: Session) -> str:
    org = tables.Organisation(name="m")
    user = tables.User(email="m@example.com")
    db.add_all([org, user])
    db.flush()
    engine = tables.Engine(organisation_id=org.id, name="e", kind="local", cpus=2, memory_gib=4)
    project = tables.Project(organisation_id=org.id, name="p")
    db.add_all([engine, project])
    db.flush()
    experiment = tables.Experiment(
        organisation_id=org.id,
        project_id=project.id,
        engine_id=engine.id,
        user_id=user.id,
        source_kind="archive",
        manifest_path="m.yaml",
        status="Processing",
        current_step="Running",
    )
    db.add(experiment)
    db.commit()
    return experiment.id


def _sample(replica: str, second: int, cpu: float = 1.0, memory: int = 100) -> MetricSample:
    return MetricSample(replica, START + timedelta(seconds=second), cpu, memory)


def test_series_per_replica_since_and_downsampled(db: Session) -> None:
    experiment_id = _experiment(db)
    for second in range(10):
        store.write(
            db,
            experiment_id,
            [_sample("w-0", second, cpu=second, memory=100 + second), _sample("w-1", second, 0.5)],
            max_points=1000,
        )
    db.commit()
    series = store.read(db, experiment_id)
    assert sorted(series) == ["w-0", "w-1"]
    assert [p.cpu for p in series["w-0"]] == [float(s) for s in range(10)]
    assert series["w-0"][0].gpu_util is None
    newer = store.read(db, experiment_id, replica="w-0", since=START + timedelta(seconds=7))
    assert list(newer) == ["w-0"] and [p.cpu for p in newer["w-0"]] == [8.0, 9.0]
    chart = store.read(db, experiment_id, replica="w-0", points=2)["w-0"]
    assert [p.cpu for p in chart] == [2.0, 7.0]  # means of 0-4 and 5-9
    assert [p.memory_bytes for p in chart] == [104, 109]  # the peaks
    assert chart[-1].at == START + timedelta(seconds=9)


def test_a_long_run_stays_under_the_cap_and_keeps_its_start(db: Session) -> None:
    experiment_id = _experiment(db)
    for second in range(120):
        store.write(db, experiment_id, [_sample("w-0", second)], max_points=40)
    db.commit()
    count = db.scalar(select(func.count()).select_from(tables.MetricPoint))
    assert count is not None and count <= 40
    points = store.read(db, experiment_id)["w-0"]
    assert points[0].at == START  # the first sample survives thinning
    assert points[-1].at == START + timedelta(seconds=119)  # and every recent one is there
    assert [p.at for p in points[-10:]] == [START + timedelta(seconds=s) for s in range(110, 120)]
