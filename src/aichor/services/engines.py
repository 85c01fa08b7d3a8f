"""Engines: every member lists them; only Infrastructure Admins (and Organization Admins)
register, change or remove them. Capacity is CPUs, memory in GiB and GPUs by product."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from aichor.db import tables
from aichor.errors import Conflict, InvalidInput, NotFound
from aichor.schemas.engines import CreateEngine, EngineView, UpdateEngine
from aichor.services import audit
from aichor.services.access import INFRA_ADMIN, Actor, in_organisation, require_role


def engine_view(row: tables.Engine) -> EngineView:
    return EngineView(
        id=row.id,
        name=row.name,
        kind=row.kind,
        cpus=row.cpus,
        memory_gib=row.memory_gib,
        gpus={str(k): int(v) for k, v in row.gpus.items()},
        settings=row.settings,
        created_at=row.created_at,
    )


def list_engines(session: Session, actor: Actor) -> list[EngineView]:
    rows = session.scalars(in_organisation(actor, tables.Engine).order_by(tables.Engine.name))
    return [engine_view(r) for r in rows]


def find_engine(session: Session, actor: Actor, ref: str) -> tables.Engine:
    """The engine with this id or name in the actor's organisation, else NotFound."""
    row = session.scalars(
        in_organisation(actor, tables.Engine).where(
            (tables.Engine.id == ref) | (tables.Engine.name == ref)
        )
    ).first()
    if row is None:
        raise NotFound(f"engine {ref} not found")
    return row


def get_engine(session: Session, actor: Actor, *, ref: str) -> EngineView:
    return engine_view(find_engine(session, actor, ref))


def create_engine(session: Session, actor: Actor, *, spec: CreateEngine) -> EngineView:
    require_role(actor, INFRA_ADMIN)
    _check_gpus(spec.gpus)
    row = tables.Engine(
        organisation_id=actor.organisation_id,
        name=spec.name,
        kind=spec.kind,
        cpus=spec.cpus,
        memory_gib=spec.memory_gib,
        gpus=dict(spec.gpus),
        settings=dict(spec.settings),
    )
    session.add(row)
    _flush_unique(session, spec.name)
    audit.record(session, actor, "engine.create", target=row.id, detail={"name": row.name})
    return engine_view(row)


def update_engine(session: Session, actor: Actor, *, ref: str, change: UpdateEngine) -> EngineView:
    row = find_engine(session, actor, ref)
    require_role(actor, INFRA_ADMIN)
    fields = change.model_dump(exclude_unset=True, exclude_none=True)
    _check_gpus(fields.get("gpus", {}))
    for key, value in fields.items():
        setattr(row, key, value)
    _flush_unique(session, row.name)
    audit.record(session, actor, "engine.update", target=row.id, detail=fields)
    return engine_view(row)


def delete_engine(session: Session, actor: Actor, *, ref: str) -> None:
    """Remove an engine no experiment used; projects lose it (and it as their default)."""
    row = find_engine(session, actor, ref)
    require_role(actor, INFRA_ADMIN)
    used = session.scalar(
        select(func.count())
        .select_from(tables.Experiment)
        .where(tables.Experiment.engine_id == row.id)
    )
    if used:
        raise Conflict(f"engine {row.name} ran {used} experiment(s); it cannot be deleted")
    session.execute(
        update(tables.Project)
        .where(tables.Project.default_engine_id == row.id)
        .values(default_engine_id=None)
    )
    session.delete(row)
    audit.record(session, actor, "engine.delete", target=row.id, detail={"name": row.name})


def _check_gpus(gpus: dict[str, int]) -> None:
    for product, count in gpus.items():
        if not product or count < 0:
            raise InvalidInput(f"GPU count for {product!r} must be ≥ 0", field=f"gpus.{product}")


def _flush_unique(session: Session, name: str) -> None:
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(
            f"an engine named {name} already exists",
        ) from None
