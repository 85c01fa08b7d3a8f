"""/api/projects: projects (`{project}` is the id or the name) and their members."""

from __future__ import annotations

from fastapi import APIRouter

from aichor.api.deps import CurrentActor, DbSession
from aichor.schemas.projects import CreateProject, ProjectView, UpdateProject
from aichor.services import projects

router = APIRouter(prefix="/api/projects", tags=["projects"])


@router.get("")
def list_projects(db: DbSession, actor: CurrentActor) -> list[ProjectView]:
    return projects.list_projects(db, actor)


@router.post("", status_code=201)
def create_project(body: CreateProject, db: DbSession, actor: CurrentActor) -> ProjectView:
    return projects.create_project(db, actor, spec=body)


@router.get("/{project}")
def read_project(project: str, db: DbSession, actor: CurrentActor) -> ProjectView:
    return projects.read_project(db, actor, ref=project)


@router.patch("/{project}")
def update_project(
    project: str, body: UpdateProject, db: DbSession, actor: CurrentActor
) -> ProjectView:
    return projects.update_project(db, actor, ref=project, change=body)


@router.delete("/{project}", status_code=204)
def delete_project(project: str, db: DbSession, actor: CurrentActor) -> None:
    projects.delete_project(db, actor, ref=project)


@router.put("/{project}/members/{user_id}")
def add_member(project: str, user_id: str, db: DbSession, actor: CurrentActor) -> ProjectView:
    return projects.add_member(db, actor, ref=project, user_id=user_id)


@router.delete("/{project}/members/{user_id}")
def remove_member(project: str, user_id: str, db: DbSession, actor: CurrentActor) -> ProjectView:
    return projects.remove_member(db, actor, ref=project, user_id=user_id)
