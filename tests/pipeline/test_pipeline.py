"""The pipeline end to end, on SQLite and PostgreSQL: real git, real builds, real processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from aichor.db.session import Engine, Session
from aichor.errors import InvalidInput
from aichor.lifecycle import ExperimentStatus
from aichor.services import experiments
from aichor.services import logs as logs_service
from tests.pipeline.conftest import World, drive, submit_archive, write_repo


def _steps(view) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {s.step: s.status for s in view.steps}


def test_commit_runs_every_step(
    world: World, db: Session, db_engine: Engine, tmp_path: Path
) -> None:
    sha = write_repo(tmp_path / "repo")
    world.project.repository_url = (tmp_path / "repo").as_uri()
    db.commit()
    view = experiments.submit_commit(
        db,
        world.actor,
        project="demo",
        commit_sha=sha,
        branch="main",
        manifest_path="aichor/manifest.yaml",
        message="first",
    )
    assert view.status == "Created" and view.current_step == "Waiting"
    drive(db_engine, world.settings, view.id)
    db.expire_all()
    done = experiments.get_experiment(db, world.actor, view.id)
    assert done.status == ExperimentStatus.SUCCEEDED, done
    assert set(_steps(done).values()) == {"Succeeded"}
    assert done.operator == "jobset" and done.replicas
    logs = logs_service.read_logs(db, world.actor, view.id, settings=world.settings)
    assert "hello from aichor" in [line.text for line in logs.lines]
    assert logs.finished
    build_log = logs_service.read_logs(
        db, world.actor, view.id, settings=world.settings, source="Building"
    )
    assert build_log.lines


def test_archive_runs_every_step(
    world: World, db: Session, db_engine: Engine, tmp_path: Path
) -> None:
    write_repo(tmp_path / "repo", command="python -c \"print('from the archive')\"")
    view = submit_archive(world, db, tmp_path / "repo")
    assert view.requested.cpus == 0.25
    drive(db_engine, world.settings, view.id)
    db.expire_all()
    done = experiments.get_experiment(db, world.actor, view.id)
    assert done.status == ExperimentStatus.SUCCEEDED, done
    logs = logs_service.read_logs(db, world.actor, view.id, settings=world.settings)
    assert "from the archive" in [line.text for line in logs.lines]


def test_missing_manifest_fails_at_cloning(
    world: World, db: Session, db_engine: Engine, tmp_path: Path
) -> None:
    sha = write_repo(tmp_path / "repo")
    world.project.repository_url = str(tmp_path / "repo")
    db.commit()
    view = experiments.submit_commit(
        db, world.actor, project="demo", commit_sha=sha, manifest_path="nope.yaml"
    )
    drive(db_engine, world.settings, view.id)
    db.expire_all()
    done = experiments.get_experiment(db, world.actor, view.id)
    assert done.status == ExperimentStatus.FAILED
    cloning = next(s for s in done.steps if s.step == "Cloning")
    assert cloning.status == "Failed" and "nope.yaml" in cloning.message
    assert "does not exist" in done.failure_reason


def test_engine_too_small_rejected_at_submit(world: World, db: Session, tmp_path: Path) -> None:
    write_repo(tmp_path / "repo", count=3, cpus=1)
    with pytest.raises(InvalidInput, match=r"needs 3 CPUs \(engine has 2\)"):
        submit_archive(world, db, tmp_path / "repo")
    db.rollback()
    assert experiments.list_experiments(db, world.actor, project="demo").items == []
