"""A submission's rows are the same whichever way they are written: the one-statement INSERT
used on PostgreSQL (`services.experiment_insert`) and the three Core INSERTs give identical
experiment, step and audit rows (every column but the ids), on both databases; a failure in
the one statement leaves nothing behind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from aichor.db import tables
from aichor.db.session import Session
from aichor.pipeline import transitions
from aichor.schemas.engines import CreateEngine
from aichor.schemas.projects import CreateProject
from aichor.services import audit, engines, experiment_insert, projects
from aichor.services.access import Actor
from aichor.services.experiments import _new_row
from tests.api.world import make_member, make_org


def _submission(db: Session) -> tuple[Actor, str, str]:
    admin = make_member(db, make_org(db, "o"), "admin@o.test", ["OrganizationAdmin"])
    engine = engines.create_engine(db, admin, spec=CreateEngine(name="e", cpus=2, memory_gib=2))
    project = projects.create_project(
        db, admin, spec=CreateProject(name="p", engine_ids=[engine.id])
    )
    db.commit()
    return admin, project.id, engine.id


def _rows(actor: Actor, project_id: str, engine_id: str) -> tuple[dict[str, Any], ...]:
    """A new experiment with awkward values: a non-ASCII message, a fractional CPU count, a
    timestamp with microseconds in another zone, a detail with nesting."""
    now = datetime(2026, 11, 30, 18, 4, 5, 123456, tzinfo=UTC)
    experiment = _new_row(
        source_kind="archive", manifest_path="m.yaml", message="héllo \"'\\ \u2603", branch="b"
    )
    experiment.update(
        organisation_id=actor.organisation_id,
        project_id=project_id,
        engine_id=engine_id,
        user_id=actor.user_id,
        author="a@o.test",
        requested_cpus=0.1 + 0.2,
        requested_memory_gib=1.5,
        requested_gpus=2,
        created_at=now,
        updated_at=now.astimezone(timezone(timedelta(hours=2))),
    )
    status, steps = transitions.new_steps(experiment["id"], now)
    experiment.update(status)
    event = audit.event_row(actor, "experiment.submit", target=experiment["id"])
    event["at"] = now
    event["detail"] = {"nested": {"list": [1, 2.5, None, True]}, "text": "é"}
    return experiment, steps, event


def _read(
    db: Session, experiment_id: str
) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    def plain(row: Any, *drop: str) -> dict[str, Any]:
        return {k: v for k, v in row._mapping.items() if k not in ("id", *drop)}

    experiment = db.execute(
        select(tables.Experiment.__table__).where(tables.Experiment.id == experiment_id)
    ).one()
    steps = db.execute(
        select(tables.ExperimentStep.__table__)
        .where(tables.ExperimentStep.experiment_id == experiment_id)
        .order_by(tables.ExperimentStep.position)
    ).all()
    event = db.execute(
        select(tables.AuditEvent.__table__).where(tables.AuditEvent.target == experiment_id)
    ).one()
    return (
        plain(experiment),
        [plain(step, "experiment_id") for step in steps],
        plain(event, "target"),
    )


def test_both_ways_write_the_same_rows(db: Session) -> None:
    actor, project_id, engine_id = _submission(db)
    one = _rows(actor, project_id, engine_id)
    experiment_insert.insert_experiment(db, *one)
    db.commit()
    two = _rows(actor, project_id, engine_id)
    db.execute(experiment_insert._INSERT_EXPERIMENT, two[0])
    db.execute(experiment_insert._INSERT_STEPS, two[1])
    db.execute(experiment_insert._INSERT_AUDIT, two[2])
    db.commit()
    written, expected = _read(db, one[0]["id"]), _read(db, two[0]["id"])
    assert written == expected
    assert written[0]["message"] == "héllo \"'\\ \u2603"
    assert written[0]["created_at"] == datetime(2026, 11, 30, 18, 4, 5, 123456, tzinfo=UTC)
    assert [s["step"] for s in written[1]] == [
        "Waiting",
        "Cloning",
        "Building",
        "Submitting",
        "Running",
        "Completed",
    ]
    assert written[2]["detail"] == {"nested": {"list": [1, 2.5, None, True]}, "text": "é"}


def test_a_failed_insert_leaves_nothing(db: Session) -> None:
    actor, project_id, engine_id = _submission(db)
    experiment, steps, event = _rows(actor, project_id, engine_id)
    steps[3]["step"] = steps[2]["step"]  # breaks the steps' unique (experiment, step)
    with pytest.raises(IntegrityError):
        experiment_insert.insert_experiment(db, experiment, steps, event)
    db.rollback()
    assert db.get(tables.Experiment, experiment["id"]) is None
    assert (
        db.scalars(
            select(tables.AuditEvent).where(tables.AuditEvent.target == experiment["id"])
        ).all()
        == []
    )
