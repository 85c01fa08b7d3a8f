"""Project variables in the pipeline, on SQLite and PostgreSQL, with real builds and processes:
runtime variables (sensitive ones decrypted) reach the replicas beneath `spec.env`, build-time
variables reach the build, and sensitive values are masked in every stored line and message."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import update

from aichor.db import tables
from aichor.db.session import Engine, Session
from aichor.logs.redact import MASK
from aichor.schemas.projects import CreateVariable
from aichor.services import experiments, logs, variables
from tests.pipeline.conftest import World, run_archive, write_repo

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
  command: python show.py
  env:
    LEARNING_RATE: "0.5"
  types:
    worker:
      count: 1
      resources:
        cpus: 0.25
        ramRatio: 1
"""
DOCKERFILE = """\
FROM python:3.11-slim
ARG FLAVOUR
ARG BUILD_TOKEN
ENV SEEN_FLAVOUR=$FLAVOUR
RUN echo flavour=$FLAVOUR token=$BUILD_TOKEN
WORKDIR /app
COPY . .
"""
SHOW = """\
import os
for name in ("API_KEY", "LEARNING_RATE", "SEED", "SEEN_FLAVOUR"):
    print(f"{name}={os.environ.get(name)}", flush=True)
"""
API_KEY = "sk-live-7f3a9c"
BUILD_TOKEN = "build-token-51d2"  # noqa: S105


def _set(db: Session, world: World, **spec: object) -> None:
    variables.set_variable(
        db, world.actor, project="demo", spec=CreateVariable.model_validate(spec),
        secret=world.settings.secret(),
    )  # fmt: skip
    db.commit()


def _texts(db: Session, world: World, experiment_id: str, source: str | None = None) -> list[str]:
    page = logs.read_logs(
        db, world.actor, experiment_id, settings=world.settings, source=source, limit=10_000
    )
    return [line.text for line in page.lines]


def test_variables_reach_build_and_replicas_and_secrets_are_masked(
    world: World, db: Session, db_engine: Engine, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    write_repo(repo, files={"Dockerfile": DOCKERFILE, "show.py": SHOW})
    (repo / "aichor" / "manifest.yaml").write_text(MANIFEST)
    _set(db, world, name="API_KEY", value=API_KEY, sensitive=True)
    _set(db, world, name="LEARNING_RATE", value="0.1")  # spec.env says 0.5 and wins
    _set(db, world, name="SEED", value="7")
    _set(db, world, name="FLAVOUR", value="blue", kind="build")
    _set(db, world, name="BUILD_TOKEN", value=BUILD_TOKEN, kind="build", sensitive=True)

    experiment_id = run_archive(world, db, db_engine, repo)
    done = experiments.get_experiment(db, world.actor, experiment_id)
    assert done.status == "Succeeded", done
    replica_lines = _texts(db, world, experiment_id)
    assert f"API_KEY={MASK}" in replica_lines
    assert "LEARNING_RATE=0.5" in replica_lines
    assert "SEED=7" in replica_lines
    assert "SEEN_FLAVOUR=blue" in replica_lines
    build_lines = "\n".join(_texts(db, world, experiment_id, "Building"))
    assert f"flavour=blue token={MASK}" in build_lines
    everything = "\n".join(
        line
        for source in (None, "Cloning", "Building", "Submitting", "Running")
        for line in _texts(db, world, experiment_id, source)
    )
    assert API_KEY not in everything and BUILD_TOKEN not in everything
    shown = experiments.get_experiment(db, world.actor, experiment_id).model_dump_json()
    listed = [
        v.model_dump_json() for v in variables.list_variables(db, world.actor, project="demo")
    ]
    assert API_KEY not in shown and all(API_KEY not in v and BUILD_TOKEN not in v for v in listed)
    # The log files on disk are what every reader serves: the value is not there either.
    stored = b"".join(p.read_bytes() for p in (world.settings.home / "logs").rglob("*.log"))
    assert API_KEY.encode() not in stored and BUILD_TOKEN.encode() not in stored


def test_a_secret_in_a_failure_message_is_masked(
    world: World, db: Session, db_engine: Engine, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    write_repo(repo, command=f"python -c \"import sys; sys.exit('bad key {API_KEY}')\"")
    _set(db, world, name="API_KEY", value=API_KEY, sensitive=True)
    experiment_id = run_archive(world, db, db_engine, repo)
    done = experiments.get_experiment(db, world.actor, experiment_id)
    assert done.status == "Failed"
    assert API_KEY not in done.model_dump_json()
    assert f"bad key {MASK}" in _texts(db, world, experiment_id)


def test_a_variable_the_key_cannot_decrypt_fails_the_build_naming_it(
    world: World, db: Session, db_engine: Engine, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    write_repo(repo)
    _set(db, world, name="API_KEY", value=API_KEY, sensitive=True)
    db.execute(update(tables.Variable).values(value="gAAAA-not-a-token"))
    db.commit()
    experiment_id = run_archive(world, db, db_engine, repo)
    done = experiments.get_experiment(db, world.actor, experiment_id)
    assert done.status == "Failed"
    building = next(s for s in done.steps if s.step == "Building")
    assert "runtime:API_KEY" in building.message and "cannot be decrypted" in building.message
