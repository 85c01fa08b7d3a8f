"""/api/projects/{project}/variables: runtime and build variables (sensitive ones read null)."""

from __future__ import annotations

from fastapi import APIRouter

from aichor.api.deps import AppSettings, CurrentActor, DbSession
from aichor.schemas.projects import CreateVariable, VariableView
from aichor.services import variables

router = APIRouter(prefix="/api/projects/{project}/variables", tags=["variables"])


@router.get("")
def list_variables(project: str, db: DbSession, actor: CurrentActor) -> list[VariableView]:
    return variables.list_variables(db, actor, project=project)


@router.post("", status_code=201)
def set_variable(
    project: str, body: CreateVariable, db: DbSession, actor: CurrentActor, settings: AppSettings
) -> VariableView:
    return variables.set_variable(db, actor, project=project, spec=body, secret=settings.secret())


@router.delete("/{variable_id}", status_code=204)
def delete_variable(project: str, variable_id: str, db: DbSession, actor: CurrentActor) -> None:
    variables.delete_variable(db, actor, project=project, variable_id=variable_id)
