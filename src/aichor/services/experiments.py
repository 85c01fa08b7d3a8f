"""Experiments: submit (commit or archive), list, get, cancel, resubmit (logs: services.logs).

Submitting parses the manifest when it is at hand (an archive; a commit's manifest is read at
Cloning), sizes the gang with the operator's plan against the engine's registered capacity,
inserts the experiment queued in Waiting (through `pipeline.transitions`) and wakes the
pipeline. Called by `aichor.api.experiments`.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from typing import Any, BinaryIO

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from aichor.db import tables
from aichor.errors import Conflict, InvalidInput, NotFound, TooLarge
from aichor.lifecycle import TERMINAL_EXPERIMENT, ExperimentStatus, Step
from aichor.manifest import Manifest, load_manifest
from aichor.pipeline import claim, clone, reconciler, transitions
from aichor.pipeline.submit import plan_gang
from aichor.schemas import experiments as schemas
from aichor.services import audit
from aichor.services.access import (
    Actor,
    get_project,
    get_project_and_default_engine,
    visible_experiment,
)
from aichor.services.experiment_insert import insert_experiment
from aichor.services.experiment_views import (
    decode_cursor,
    encode_cursor,
    full_view,
    new_view,
    page_items,
    page_query,
    view_query,
)
from aichor.settings import Settings

MAX_ARCHIVE_UPLOAD = 512 * 1024**2


@dataclass(frozen=True)
class Pushed:
    """What a push adds to a commit submission: its git author, provider and trigger key."""

    author: str
    provider: str
    trigger_key: str


def submit_local(
    session: Session,
    actor: Actor,
    *,
    settings: Settings,
    project: str,
    archive: bytes | BinaryIO,
    manifest_path: str,
    message: str = "",
    engine: str | None = None,
) -> schemas.ExperimentView:
    """An experiment from an uploaded tar.gz of the working tree."""
    row, default_engine = get_project_and_default_engine(session, actor, project)
    experiment = _new_row(source_kind="archive", manifest_path=manifest_path, message=message)
    archive_path = settings.archives_dir / f"{experiment['id']}.tar.gz"
    _store_archive(archive, archive_path)
    try:
        text = clone.read_archive_manifest(archive_path, manifest_path)
        manifest = load_manifest(text, source=manifest_path)
        experiment["manifest_text"] = text
        experiment["archive_key"] = str(archive_path.relative_to(settings.home))
        return _queue(session, actor, experiment, row, engine or default_engine, manifest)
    except BaseException:
        archive_path.unlink(missing_ok=True)
        raise


def submit_commit(
    session: Session,
    actor: Actor,
    *,
    project: str,
    commit_sha: str,
    branch: str | None = None,
    manifest_path: str = "manifest.yaml",
    message: str | None = None,
    engine: str | None = None,
    pushed: Pushed | None = None,
) -> schemas.ExperimentView:
    """An experiment from a commit of the project's repository (its manifest read at Cloning).

    `pushed` (from `services.triggers`) records the git author and the provider; a second
    experiment for the same trigger key raises IntegrityError (at its INSERT)."""
    row, default_engine = get_project_and_default_engine(session, actor, project)
    if not row.repository_url:
        raise InvalidInput(f"project {row.name} has no repository URL", field="project")
    experiment = _new_row(
        source_kind="commit",
        commit_sha=commit_sha.lower(),
        branch=branch or "",
        manifest_path=manifest_path,
        message=message or "",
    )
    if pushed is not None:
        experiment["author"] = pushed.author
        experiment["trigger_key"] = pushed.trigger_key
        experiment["triggered_by"] = pushed.provider
    return _queue(session, actor, experiment, row, engine or default_engine, None)


def _new_row(*, source_kind: str, manifest_path: str, **given: Any) -> dict[str, Any]:
    """Every column of a new experiment row, for one Core INSERT (the same statement each
    time): each column's scalar default, else NULL, then `given` (known column names only)."""
    unknown = given.keys() - _EXPERIMENT_DEFAULTS.keys()
    if unknown:
        raise KeyError(f"not experiment columns: {sorted(unknown)}")
    return {
        **_EXPERIMENT_DEFAULTS,
        "id": tables.new_id(),
        "source_kind": source_kind,
        "manifest_path": manifest_path,
        **given,
    }


_EXPERIMENT_TABLE = tables.Base.metadata.tables[tables.Experiment.__tablename__]
_EXPERIMENT_DEFAULTS: dict[str, Any] = {
    column.key: column.default.arg
    if isinstance(column.default, ScalarElementColumnDefault)
    else None
    for column in _EXPERIMENT_TABLE.columns
}


def _queue(
    session: Session,
    actor: Actor,
    experiment: dict[str, Any],
    project: tables.Project,
    engine_ref: str | tables.Engine | None,
    manifest: Manifest | None,
) -> schemas.ExperimentView:
    """Insert the experiment queued in Waiting (one commit) and return its view.

    Core INSERTs of the experiment, its steps and the audit event (one statement on
    PostgreSQL: `services.experiment_insert`): the ORM's unit of work cost more CPU than
    everything else in a submission. The view is
    built from the rows just written (no re-read): a new experiment has no replicas, and its
    steps, project, engine and author are all at hand. `engine_ref` is the engine asked for
    (id or name), or the project's default engine already read with the project, or None.
    """
    if isinstance(engine_ref, tables.Engine):
        engine = engine_ref
    else:
        engine = _engine_for(session, actor, project, engine_ref)
    now = tables.utcnow()
    experiment.update(
        organisation_id=actor.organisation_id,
        project_id=project.id,
        engine_id=engine.id,
        user_id=actor.user_id,
        author=experiment["author"] or actor.user.email,
        created_at=now,
        updated_at=now,
    )
    if manifest is not None:
        experiment["operator"] = manifest.spec.operator
        _size_gang(experiment, manifest, engine)
    status, steps = transitions.new_steps(experiment["id"], now)
    experiment.update(status)
    event = audit.event_row(actor, "experiment.submit", target=experiment["id"])
    insert_experiment(session, experiment, steps, event)
    session.commit()
    reconciler.wake(queued_on=engine.id)
    return new_view(experiment, steps, project.name, engine.name, actor.user.email)


_DEFAULT_ENGINE = select(tables.Engine).where(
    tables.Engine.organisation_id == bindparam("organisation_id"),
    tables.Engine.id == bindparam("engine_id"),
)
"""Built once: the engine of nearly every submission (the project's default)."""


def _engine_for(
    session: Session, actor: Actor, project: tables.Project, ref: str | None
) -> tables.Engine:
    engine: tables.Engine | None
    if not ref and project.default_engine_id:
        params = {"organisation_id": actor.organisation_id, "engine_id": project.default_engine_id}
        engine = session.scalars(_DEFAULT_ENGINE, params).first()
    else:
        assigned = select(tables.ProjectEngine.engine_id).where(
            tables.ProjectEngine.project_id == project.id
        )
        query = select(tables.Engine).where(tables.Engine.organisation_id == actor.organisation_id)
        if ref:
            query = query.where((tables.Engine.id == ref) | (tables.Engine.name == ref))
            query = query.where(
                tables.Engine.id.in_(assigned) | (tables.Engine.id == project.default_engine_id)
            )
        else:
            query = query.where(tables.Engine.id.in_(assigned))
        engine = session.scalars(query).first()
    if engine is None:
        wanted = f"engine {ref}" if ref else "a default engine"
        raise InvalidInput(f"project {project.name} has no {wanted}", field="engine")
    return engine


def _size_gang(experiment: dict[str, Any], manifest: Manifest, engine: tables.Engine) -> None:
    """Record what the gang holds at once; reject it if the engine can never place it."""
    need = plan_gang(manifest, experiment["id"]).peak_resources()
    gpus = sum(int(n) for n in engine.gpus.values())
    experiment["requested_cpus"] = need.cpus
    experiment["requested_memory_gib"] = need.memory_gib
    experiment["requested_gpus"] = need.gpus
    problems = []
    if need.cpus > engine.cpus + 1e-9:
        problems.append(f"{need.cpus:g} CPUs (engine has {engine.cpus:g})")
    if need.memory_gib > engine.memory_gib + 1e-9:
        problems.append(f"{need.memory_gib:g} GiB of memory (engine has {engine.memory_gib:g})")
    if need.gpus > gpus:
        problems.append(f"{need.gpus} GPUs (engine has {gpus})")
    if problems:
        raise InvalidInput(
            f"engine {engine.name} is too small for this gang: it needs " + ", ".join(problems),
            field="engine",
        )


def _store_archive(archive: bytes | BinaryIO, path: os.PathLike[str]) -> None:
    target = os.fspath(path)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "wb") as out:
        if isinstance(archive, bytes):
            out.write(archive)
        else:
            shutil.copyfileobj(archive, out, 1024 * 1024)
        size = out.tell()
    if size > MAX_ARCHIVE_UPLOAD:
        os.unlink(target)
        raise TooLarge(f"the archive is {size} bytes; the limit is {MAX_ARCHIVE_UPLOAD}")


def list_experiments(
    session: Session,
    actor: Actor,
    *,
    project: str,
    status: str | None = None,
    user: str | None = None,
    branch: str | None = None,
    engine: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> schemas.ExperimentPage:
    """Newest first, `limit` at a time; `next_cursor` continues after the last item."""
    row = get_project(session, actor, project)
    limit = min(max(limit, 1), 200)
    query = page_query().where(tables.Experiment.project_id == row.id)
    if status:
        query = query.where(tables.Experiment.status == status)
    if branch:
        query = query.where(tables.Experiment.branch == branch)
    if engine:
        query = query.where((tables.Engine.name == engine) | (tables.Engine.id == engine))
    if user:
        query = query.where((tables.User.email == user.lower()) | (tables.User.id == user))
    if cursor:
        created, last_id = decode_cursor(cursor)
        query = query.where(
            (tables.Experiment.created_at < created)
            | ((tables.Experiment.created_at == created) & (tables.Experiment.id < last_id))
        )
    query = query.order_by(tables.Experiment.created_at.desc(), tables.Experiment.id.desc())
    # plain rows through the session's connection: no ORM loading machinery per row
    rows = session.connection().execute(query.limit(limit + 1)).all()
    more = len(rows) > limit
    items = page_items(session, rows[:limit], row.name)
    next_cursor = encode_cursor(rows[limit - 1].created_at, rows[limit - 1].id) if more else None
    return schemas.ExperimentPage(items=items, next_cursor=next_cursor)


def get_experiment(session: Session, actor: Actor, experiment_id: str) -> schemas.ExperimentView:
    experiment = visible_experiment(session, actor, experiment_id)
    row = session.execute(view_query().where(tables.Experiment.id == experiment.id)).one()
    replicas = session.scalars(
        select(tables.Replica).where(tables.Replica.experiment_id == experiment.id)
    ).all()
    return full_view(row, replicas)


def cancel_experiment(session: Session, actor: Actor, experiment_id: str) -> schemas.ExperimentView:
    """Queued: cancelled at once. Later steps: the pipeline stops the step (and the workload)."""
    experiment = visible_experiment(session, actor, experiment_id)
    if ExperimentStatus(experiment.status) in TERMINAL_EXPERIMENT:
        raise Conflict(f"experiment {experiment.id} already ended ({experiment.status})")
    taken = session.execute(
        update(tables.Experiment)
        .where(
            tables.Experiment.id == experiment.id,
            tables.Experiment.claimed_by.is_(None),
            tables.Experiment.current_step == Step.WAITING,
            tables.Experiment.status == ExperimentStatus.CREATED,
        )
        .values(claimed_by="cancel", cancel_requested=True)
        .execution_options(synchronize_session=False)
    )
    session.refresh(experiment)
    if taken.rowcount == 1:  # type: ignore[attr-defined]
        transitions.finish(
            session, experiment, ExperimentStatus.CANCELLED, "cancelled in the queue"
        )
    else:
        session.execute(
            update(tables.Experiment)
            .where(tables.Experiment.id == experiment.id)
            .values(cancel_requested=True)
            .execution_options(synchronize_session=False)
        )
        claim.due_now(session, experiment.id)  # not at the running workload's next poll
    audit.record(session, actor, "experiment.cancel", target=experiment.id)
    session.commit()
    reconciler.wake()
    return get_experiment(session, actor, experiment.id)


def resubmit_experiment(
    session: Session, actor: Actor, experiment_id: str, *, settings: Settings
) -> schemas.ExperimentView:
    """A new experiment from the same source (commit, or a copy of the same archive)."""
    old = visible_experiment(session, actor, experiment_id)
    project = session.get(tables.Project, old.project_id)
    if project is None:
        raise NotFound(f"experiment {experiment_id} not found")
    new = _new_row(
        source_kind=old.source_kind,
        commit_sha=old.commit_sha,
        branch=old.branch,
        message=old.message,
        manifest_path=old.manifest_path,
        manifest_text=old.manifest_text if old.source_kind == "archive" else "",
        resubmitted_from=old.id,
        priority=old.priority,
    )
    manifest = None
    if old.source_kind == "archive":
        target = settings.archives_dir / f"{new['id']}.tar.gz"
        shutil.copyfile(settings.home / old.archive_key, target)
        new["archive_key"] = str(target.relative_to(settings.home))
        manifest = load_manifest(old.manifest_text, source=old.manifest_path)
    engine = session.get(tables.Engine, old.engine_id)
    return _queue(session, actor, new, project, engine.id if engine else None, manifest)
