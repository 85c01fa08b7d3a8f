"""Log retention on SQLite and PostgreSQL: logs of experiments that ended longer ago than the
organisation's retention are deleted (store and engine copies) by the server's purge, and the
experiment then says its logs were purged instead of showing an empty log or an error."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from pydantic import ValidationError

from aichor.db import tables
from aichor.db.session import Session
from aichor.errors import Forbidden, NotFound
from aichor.lifecycle import ExperimentStatus, Step
from aichor.logs.store import LogStore
from aichor.schemas.experiments import LogRetention
from aichor.services import experiments, log_retention, logs
from aichor.services.access import USER, Actor
from tests.pipeline.conftest import World, world  # noqa: F401


def _ended(db: Session, world: World, days_ago: float | None) -> str:  # noqa: F811
    """An experiment that ended `days_ago` (None: still running), with logs on disk."""
    now = tables.utcnow()
    experiment = tables.Experiment(
        id=tables.new_id(),
        organisation_id=world.actor.organisation_id,
        project_id=world.project.id,
        engine_id=world.engine.id,
        user_id=world.actor.user_id,
        source_kind="archive",
        manifest_path="manifest.yaml",
        status=ExperimentStatus.PROCESSING if days_ago is None else ExperimentStatus.SUCCEEDED,
        current_step=Step.RUNNING if days_ago is None else Step.COMPLETED,
        finished_at=None if days_ago is None else now - timedelta(days=days_ago),
    )
    experiment.workload_name = f"workload-{experiment.id}"
    db.add(experiment)
    db.commit()
    LogStore(world.settings.logs_dir).append(experiment.id, "w-0", ["a line"])
    engine_logs = world.settings.runs_dir / experiment.workload_name / "logs"
    engine_logs.mkdir(parents=True)
    (engine_logs / "all.log").write_text("2026-01-01T00:00:00+00:00\tw-0\ta line\n")
    return experiment.id


def _kept(world: World, experiment_id: str) -> bool:  # noqa: F811
    return LogStore(world.settings.logs_dir).folder(experiment_id).exists()


def test_logs_past_the_default_30_days_are_purged_and_said_so(
    db: Session,
    world: World,  # noqa: F811
) -> None:
    old, recent, running = _ended(db, world, 31), _ended(db, world, 29), _ended(db, world, None)
    purged = log_retention.purge_expired_logs(world.settings)
    assert purged == [old]
    assert not _kept(world, old) and _kept(world, recent) and _kept(world, running)
    workload = world.settings.runs_dir / f"workload-{old}"
    assert workload.is_dir() and not (workload / "logs").exists()
    db.expire_all()
    view = experiments.get_experiment(db, world.actor, old)
    assert view.logs_purged_at is not None
    page = logs.read_logs(db, world.actor, old, settings=world.settings)
    assert page.lines == [] and page.finished and page.purged_at == view.logs_purged_at
    with pytest.raises(NotFound, match="purged"):
        logs.download_logs(db, world.actor, old, settings=world.settings)
    stream = logs.open_stream(db, world.actor, old, settings=world.settings, after=123)
    events = asyncio.run(_collect(stream))
    assert events[-1].startswith(b"id: 123\nevent: end\n") and b'"purged_at":"' in events[-1]
    assert log_retention.purge_expired_logs(world.settings) == []


async def _collect(stream: logs.LogStream) -> list[bytes]:
    return [event async for event in stream.events()]


def test_an_organisation_admin_shortens_the_retention(
    db: Session,
    world: World,  # noqa: F811
) -> None:
    recent = _ended(db, world, 10)
    assert log_retention.get_retention(db, world.actor).days == 30
    user = Actor(
        user=world.actor.user, organisation=world.actor.organisation, roles=frozenset({USER})
    )
    with pytest.raises(Forbidden):
        log_retention.set_retention(db, user, retention=LogRetention(days=7))
    log_retention.set_retention(db, world.actor, retention=LogRetention(days=7))
    db.commit()
    assert log_retention.get_retention(db, user).days == 7
    assert log_retention.purge_expired_logs(world.settings) == [recent]
    with pytest.raises(ValidationError, match="days"):
        LogRetention(days=0)


def test_the_server_purge_runs_in_the_background(
    db: Session,
    world: World,  # noqa: F811
) -> None:
    old = _ended(db, world, 40)
    settings = world.settings.model_copy(update={"log_purge_interval_seconds": 0.05})
    purger = log_retention.LogPurger(settings).start()
    try:
        deadline = time.monotonic() + 20
        while _kept(world, old) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        purger.stop()
    assert not _kept(world, old)
