"""Projects: the unit of access. Organization Admins create, change and delete them and manage
their members; members (and admins) read them. Each project has engines, one the default."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from aichor.db import tables
from aichor.errors import Conflict, InvalidInput, NotFound
from aichor.schemas.projects import CreateProject, ProjectView, UpdateProject
from aichor.services import audit
from aichor.services.access import (
    Actor,
    get_project,
    in_organisation,
    require_role,
    visible_project_ids,
)


def project_view(session: Session, row: tables.Project) -> ProjectView:
    engine_ids = session.scalars(
        select(tables.ProjectEngine.engine_id).where(tables.ProjectEngine.project_id == row.id)
    )
    member_ids = session.scalars(
        select(tables.ProjectMember.user_id).where(tables.ProjectMember.project_id == row.id)
    )
    return ProjectView(
        id=row.id,
        name=row.name,
        vcs_provider=row.vcs_provider,
        repository_url=row.repository_url,
        engine_ids=sorted(engine_ids),
        default_engine_id=row.default_engine_id,
        member_ids=sorted(member_ids),
        created_at=row.created_at,
    )


def list_projects(session: Session, actor: Actor) -> list[ProjectView]:
    """The projects the actor may use (all of them for Organization Admins)."""
    rows = session.scalars(
        select(tables.Project)
        .where(tables.Project.id.in_(visible_project_ids(session, actor)))
        .order_by(tables.Project.name)
    )
    return [project_view(session, r) for r in rows]


def read_project(session: Session, actor: Actor, *, ref: str) -> ProjectView:
    return project_view(session, get_project(session, actor, ref))


def create_project(session: Session, actor: Actor, *, spec: CreateProject) -> ProjectView:
    require_role(actor)
    row = tables.Project(
        organisation_id=actor.organisation_id,
        name=spec.name,
        vcs_provider=spec.vcs_provider,
        repository_url=spec.repository_url,
    )
    session.add(row)
    _flush_unique(session, spec.name)
    assign_engines(session, actor, row, spec.engine_ids, spec.default_engine_id)
    audit.record(session, actor, "project.create", target=row.id, detail={"name": row.name})
    return project_view(session, row)


def update_project(
    session: Session, actor: Actor, *, ref: str, change: UpdateProject
) -> ProjectView:
    row = get_project(session, actor, ref)
    require_role(actor)
    fields = change.model_dump(exclude_unset=True)
    for key in ("name", "vcs_provider", "repository_url"):
        if fields.get(key) is not None:
            setattr(row, key, fields[key])
    _flush_unique(session, row.name)
    if "engine_ids" in fields or "default_engine_id" in fields:
        current = project_view(session, row).engine_ids
        engine_ids = fields.get("engine_ids")
        assign_engines(
            session,
            actor,
            row,
            current if engine_ids is None else engine_ids,
            fields.get("default_engine_id", row.default_engine_id),
        )
    audit.record(session, actor, "project.update", target=row.id, detail=fields)
    return project_view(session, row)


def delete_project(session: Session, actor: Actor, *, ref: str) -> None:
    """Delete a project with its experiments, variables and usage records."""
    row = get_project(session, actor, ref)
    require_role(actor)
    session.delete(row)
    audit.record(session, actor, "project.delete", target=row.id, detail={"name": row.name})


def assign_engines(
    session: Session,
    actor: Actor,
    project: tables.Project,
    engine_ids: list[str],
    default_engine_id: str | None,
) -> None:
    """Set the project's engines; the default must be one of them (the first when not given)."""
    ids = list(dict.fromkeys(engine_ids))
    if default_engine_id and default_engine_id not in ids:
        ids.append(default_engine_id)
    for position, engine_id in enumerate(ids):
        found = session.scalars(
            in_organisation(actor, tables.Engine).where(tables.Engine.id == engine_id)
        ).first()
        if found is None:
            raise InvalidInput(f"engine {engine_id} not found", field=f"engine_ids.{position}")
    session.execute(
        delete(tables.ProjectEngine).where(tables.ProjectEngine.project_id == project.id)
    )
    session.add_all(tables.ProjectEngine(project_id=project.id, engine_id=e) for e in ids)
    project.default_engine_id = default_engine_id or (ids[0] if ids else None)
    session.flush()


def add_member(session: Session, actor: Actor, *, ref: str, user_id: str) -> ProjectView:
    """Give an organisation member access to the project (idempotent)."""
    row = get_project(session, actor, ref)
    require_role(actor)
    _require_member(session, actor, user_id)
    if session.get(tables.ProjectMember, (row.id, user_id)) is None:
        session.add(tables.ProjectMember(project_id=row.id, user_id=user_id))
        session.flush()
    audit.record(session, actor, "project.member.add", target=row.id, detail={"user": user_id})
    return project_view(session, row)


def remove_member(session: Session, actor: Actor, *, ref: str, user_id: str) -> ProjectView:
    row = get_project(session, actor, ref)
    require_role(actor)
    _require_member(session, actor, user_id)
    member = session.get(tables.ProjectMember, (row.id, user_id))
    if member is not None:
        session.delete(member)
        session.flush()
    audit.record(session, actor, "project.member.remove", target=row.id, detail={"user": user_id})
    return project_view(session, row)


def _require_member(session: Session, actor: Actor, user_id: str) -> None:
    found = session.scalars(
        in_organisation(actor, tables.Membership).where(tables.Membership.user_id == user_id)
    ).first()
    if found is None:
        raise NotFound(f"user {user_id} not found")


def _flush_unique(session: Session, name: str) -> None:
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(f"a project named {name} already exists") from None
