"""Pipeline fixtures: a migrated database (sqlite|postgresql), an organisation with a project on
a local engine, and a real git repository holding a tiny jobset experiment."""

from __future__ import annotations

import io
import subprocess
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from aichor.db import tables
from aichor.db.session import Engine, Session, session
from aichor.lifecycle import TERMINAL_EXPERIMENT, ExperimentStatus
from aichor.pipeline.reconciler import Reconciler, Timing
from aichor.pipeline.work import context_for
from aichor.schemas.experiments import ExperimentView
from aichor.services import experiments
from aichor.services.access import ORG_ADMIN, Actor
from aichor.settings import Settings
from tests.db.databases import db, db_engine, db_settings  # noqa: F401

MANIFEST = """\
kind: AIchorManifest
apiVersion: 0.2.3
builder:
  image: tiny
  dockerfile: ./Dockerfile
  context: .
spec:
  operator: jobset
  image: tiny
  command: {command}
  types:
    worker:
      count: {count}
      resources:
        cpus: {cpus}
        ramRatio: 1
"""
DOCKERFILE = "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\n"
FAST = Timing(poll_seconds=0.05, lease_seconds=5.0)


@dataclass
class World:
    actor: Actor
    project: tables.Project
    engine: tables.Engine
    settings: Settings


@pytest.fixture
def world(db: Session, db_settings: Settings) -> World:  # noqa: F811
    organisation = tables.Organisation(name="acme")
    user = tables.User(email="ada@example.com", name="Ada")
    db.add_all([organisation, user])
    db.flush()
    db.add(tables.Membership(organisation_id=organisation.id, user_id=user.id, roles=[ORG_ADMIN]))
    engine = tables.Engine(
        organisation_id=organisation.id, name="local", kind="local", cpus=2, memory_gib=4
    )
    db.add(engine)
    db.flush()
    project = tables.Project(
        organisation_id=organisation.id, name="demo", default_engine_id=engine.id
    )
    db.add(project)
    db.flush()
    db.add(tables.ProjectEngine(project_id=project.id, engine_id=engine.id))
    db.commit()
    actor = Actor(user=user, organisation=organisation, roles=frozenset({ORG_ADMIN}))
    return World(actor=actor, project=project, engine=engine, settings=db_settings)


def write_repo(
    folder: Path,
    *,
    command: str = "python -c \"print('hello from aichor')\"",
    count: int = 1,
    cpus: float = 0.25,
    files: dict[str, str] | None = None,
) -> str:
    """A git repository with the experiment at `aichor/manifest.yaml`; returns the commit SHA."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "aichor").mkdir(exist_ok=True)
    (folder / "aichor" / "manifest.yaml").write_text(
        MANIFEST.format(command=command, count=count, cpus=cpus)
    )
    (folder / "Dockerfile").write_text(DOCKERFILE)
    for name, text in (files or {}).items():
        (folder / name).write_text(text)
    git = ["git", "-C", str(folder), "-c", "user.email=t@example.com", "-c", "user.name=T"]
    if not (folder / ".git").exists():
        subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "experiment"], check=True)
    out = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True)
    return out.stdout.strip()


def tar_of(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in sorted(folder.rglob("*")):
            if ".git" not in path.relative_to(folder).parts:
                tar.add(path, arcname=str(path.relative_to(folder)), recursive=False)
    return buffer.getvalue()


def submit_archive(world: World, db: Session, repo: Path) -> ExperimentView:  # noqa: F811
    """Submit the repository's files as an archive to the `demo` project
    (manifest at `aichor/manifest.yaml`), as `aichor submit` from a working copy does."""
    return experiments.submit_local(
        db,
        world.actor,
        settings=world.settings,
        project="demo",
        archive=tar_of(repo),
        manifest_path="aichor/manifest.yaml",
    )


def run_archive(world: World, db: Session, db_engine: Engine, repo: Path) -> str:  # noqa: F811
    """Submit the repository as an archive and drive the pipeline until the experiment ends;
    the session is expired so it reads the end state. Returns the experiment id."""
    view = submit_archive(world, db, repo)
    drive(db_engine, world.settings, view.id)
    db.expire_all()
    return view.id


def reconciler_for(db_engine: Engine, settings: Settings) -> Reconciler:  # noqa: F811
    return Reconciler(db_engine, context_for(settings), threads=1, timing=FAST)


def drive(
    db_engine: Engine,  # noqa: F811
    settings: Settings,
    experiment_id: str,
    *,
    timeout: float = 120,
    until: Callable[[tables.Experiment], bool] | None = None,
) -> tables.Experiment:
    """Run the pipeline in this thread until the experiment ends (or `until` holds)."""
    reconciler = reconciler_for(db_engine, settings)
    worker = "test:1:1:0"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with session(db_engine) as s:
            experiment = s.get(tables.Experiment, experiment_id)
            assert experiment is not None
            done = ExperimentStatus(experiment.status) in TERMINAL_EXPERIMENT
            if done or (until is not None and until(experiment)):
                _ = experiment.steps
                return experiment
        if not reconciler.run_once(worker):
            time.sleep(0.02)
    raise AssertionError(f"{experiment_id} did not finish in {timeout}s")
