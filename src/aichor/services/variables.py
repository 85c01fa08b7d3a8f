"""Project variables, runtime or build-time. Sensitive values are encrypted at rest with a
Fernet key derived from the server's secret (`aichor.crypto`) and are never returned; names
the platform or an operator sets (`aichor.manifest.protected`) are refused.

Callers: api/variables.py (members of the project) and the pipeline (`values_for`).
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from aichor import crypto
from aichor.db import tables
from aichor.errors import InvalidInput, NotFound
from aichor.manifest.protected import is_protected
from aichor.schemas.projects import CreateVariable, VariableView
from aichor.services import audit
from aichor.services.access import Actor, get_project

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def variable_view(row: tables.Variable) -> VariableView:
    return VariableView(
        id=row.id,
        name=row.name,
        kind=row.kind,
        sensitive=row.sensitive,
        value=None if row.sensitive else row.value,
        created_at=row.created_at,
    )


def list_variables(session: Session, actor: Actor, *, project: str) -> list[VariableView]:
    row = get_project(session, actor, project)
    rows = session.scalars(
        select(tables.Variable)
        .where(tables.Variable.project_id == row.id)
        .order_by(tables.Variable.kind, tables.Variable.name)
    )
    return [variable_view(r) for r in rows]


def set_variable(
    session: Session, actor: Actor, *, project: str, spec: CreateVariable, secret: str
) -> VariableView:
    """Create the variable, or replace the value of the one with this kind and name."""
    row = get_project(session, actor, project)
    _check_name(spec.name)
    value = crypto.encrypt(secret, spec.value) if spec.sensitive else spec.value
    variable = session.scalars(
        select(tables.Variable).where(
            tables.Variable.project_id == row.id,
            tables.Variable.kind == spec.kind,
            tables.Variable.name == spec.name,
        )
    ).one_or_none()
    if variable is None:
        variable = tables.Variable(
            organisation_id=actor.organisation_id, project_id=row.id, name=spec.name, kind=spec.kind
        )
        session.add(variable)
    variable.sensitive = spec.sensitive
    variable.value = value
    session.flush()
    audit.record(
        session,
        actor,
        "variable.set",
        target=row.id,
        detail={"name": spec.name, "kind": spec.kind, "sensitive": spec.sensitive},
    )
    return variable_view(variable)


def _check_name(name: str) -> None:
    if not NAME.match(name):
        raise InvalidInput(
            f"variable name {name!r} must be letters, digits and _ (not starting with a digit)",
            field="name",
        )
    if is_protected(name):
        raise InvalidInput(
            f"variable name {name} is reserved: the platform or an operator sets it", field="name"
        )


def delete_variable(session: Session, actor: Actor, *, project: str, variable_id: str) -> None:
    row = get_project(session, actor, project)
    variable = session.scalars(
        select(tables.Variable).where(
            tables.Variable.project_id == row.id, tables.Variable.id == variable_id
        )
    ).one_or_none()
    if variable is None:
        raise NotFound(f"variable {variable_id} not found")
    session.delete(variable)
    audit.record(session, actor, "variable.delete", target=row.id, detail={"name": variable.name})


def values_for(session: Session, *, project_id: str, kind: str, secret: str) -> dict[str, str]:
    """Every variable of one kind in clear, for the pipeline to inject; never log the result."""
    rows = session.scalars(
        select(tables.Variable).where(
            tables.Variable.project_id == project_id, tables.Variable.kind == kind
        )
    )
    return {r.name: crypto.decrypt(secret, r.value) if r.sensitive else r.value for r in rows}
