"""Who is acting, and what they may touch: every service call starts here.

An `Actor` is a user acting inside one organisation with that membership's roles. Rows of
another organisation are reported as missing (NotFound), exactly like rows that do not exist;
a member whose roles do not allow an action gets Forbidden. Users see the projects they belong
to; Organization Admins see every project of their organisation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from aichor.db import tables
from aichor.errors import Forbidden, InvalidInput, NotFound

USER = "User"
ORG_ADMIN = "OrganizationAdmin"
INFRA_ADMIN = "InfrastructureAdmin"
FINOPS_ADMIN = "FinOpsAdmin"
ROLES: tuple[str, ...] = (USER, ORG_ADMIN, INFRA_ADMIN, FINOPS_ADMIN)

Row = TypeVar("Row", bound=tables.Base)


@dataclass(frozen=True)
class Actor:
    """The caller: a user, the organisation their token or session is bound to, their roles."""

    user: tables.User
    organisation: tables.Organisation
    roles: frozenset[str]
    token_id: str | None = None
    """The API token or session row that authenticated this request (None in services tests)."""

    @property
    def organisation_id(self) -> str:
        return self.organisation.id

    @property
    def user_id(self) -> str:
        return self.user.id

    @property
    def is_org_admin(self) -> bool:
        return ORG_ADMIN in self.roles

    def has_any(self, *roles: str) -> bool:
        """True when the actor holds one of `roles`; Organization Admins hold every role."""
        return self.is_org_admin or any(role in self.roles for role in roles)


def require_role(actor: Actor, *roles: str) -> None:
    """Forbidden unless the actor holds one of `roles` (or is an Organization Admin)."""
    if not actor.has_any(*roles):
        wanted = " or ".join((*roles, ORG_ADMIN)) if roles else ORG_ADMIN
        raise Forbidden(f"this needs the {wanted} role")


def validate_roles(roles: Iterable[str], *, field: str = "roles") -> list[str]:
    """The roles, deduplicated in a stable order; an unknown name is InvalidInput."""
    result: list[str] = []
    for role in roles:
        if role not in ROLES:
            raise InvalidInput(f"unknown role {role!r}; use one of {', '.join(ROLES)}", field=field)
        if role not in result:
            result.append(role)
    return result


def in_organisation(actor: Actor, table: type[Row]) -> Select[Row]:
    """`SELECT table WHERE organisation_id = actor's organisation`: the start of every query."""
    column: Any = table.organisation_id  # type: ignore[attr-defined]
    return select(table).where(column == actor.organisation_id)


def get_in_organisation(session: Session, actor: Actor, table: type[Row], row_id: str) -> Row:
    """The row with this id in the actor's organisation, else NotFound (never Forbidden)."""
    column: Any = table.id  # type: ignore[attr-defined]
    row = session.scalars(in_organisation(actor, table).where(column == row_id)).one_or_none()
    if row is None:
        raise NotFound(f"{table.__tablename__.replace('_', ' ')} {row_id} not found")
    return row


_PROJECT_BY_REF = select(tables.Project).where(
    tables.Project.organisation_id == bindparam("organisation_id"),
    (tables.Project.id == bindparam("ref")) | (tables.Project.name == bindparam("ref")),
)
"""Built once (most requests start with it): what `in_organisation` would build each time."""


def get_project(session: Session, actor: Actor, ref: str) -> tables.Project:
    """The project named or identified by `ref` that the actor may use, else NotFound."""
    params = {"organisation_id": actor.organisation_id, "ref": ref}
    project = session.scalars(_PROJECT_BY_REF, params).first()
    if project is None or not can_use_project(session, actor, project.id):
        raise NotFound(f"project {ref} not found")
    return project


_PROJECT_AND_DEFAULT_ENGINE = (
    select(tables.Project, tables.Engine)
    .outerjoin(
        tables.Engine,
        (tables.Engine.id == tables.Project.default_engine_id)
        & (tables.Engine.organisation_id == tables.Project.organisation_id),
    )
    .where(
        tables.Project.organisation_id == bindparam("organisation_id"),
        (tables.Project.id == bindparam("ref")) | (tables.Project.name == bindparam("ref")),
    )
)


def get_project_and_default_engine(
    session: Session, actor: Actor, ref: str
) -> tuple[tables.Project, tables.Engine | None]:
    """`get_project` and the project's default engine (None without one) in one query: a
    submission needs both, and a statement costs more than the rows it reads."""
    params = {"organisation_id": actor.organisation_id, "ref": ref}
    found = session.execute(_PROJECT_AND_DEFAULT_ENGINE, params).first()
    if found is None or not can_use_project(session, actor, found[0].id):
        raise NotFound(f"project {ref} not found")
    return found[0], found[1]


def can_use_project(session: Session, actor: Actor, project_id: str) -> bool:
    """Organization Admins use every project of their organisation; others need membership."""
    if actor.is_org_admin:
        return True
    member = session.get(tables.ProjectMember, (project_id, actor.user_id))
    return member is not None


def visible_experiment(session: Session, actor: Actor, experiment_id: str) -> tables.Experiment:
    """The experiment if the actor may see it (its organisation, a project they use), else
    NotFound, also for another organisation's: what every read of an experiment starts with."""
    experiment = session.scalars(
        select(tables.Experiment).where(
            tables.Experiment.id == experiment_id,
            tables.Experiment.organisation_id == actor.organisation_id,
        )
    ).one_or_none()
    if experiment is None or not can_use_project(session, actor, experiment.project_id):
        raise NotFound(f"experiment {experiment_id} not found")
    return experiment


def visible_project_ids(session: Session, actor: Actor) -> Select[str]:
    """A subquery of the ids of the projects the actor may see (for list filters)."""
    if actor.is_org_admin:
        return select(tables.Project.id).where(
            tables.Project.organisation_id == actor.organisation_id
        )
    return (
        select(tables.ProjectMember.project_id)
        .join(tables.Project, tables.Project.id == tables.ProjectMember.project_id)
        .where(
            tables.ProjectMember.user_id == actor.user_id,
            tables.Project.organisation_id == actor.organisation_id,
        )
    )


def actor_for(session: Session, user: tables.User, organisation_id: str) -> Actor:
    """The Actor of `user` in an organisation they belong to, else NotFound."""
    membership = session.scalars(
        select(tables.Membership).where(
            tables.Membership.user_id == user.id,
            tables.Membership.organisation_id == organisation_id,
        )
    ).one_or_none()
    organisation = session.get(tables.Organisation, organisation_id)
    if membership is None or organisation is None:
        raise NotFound("organisation not found")
    return Actor(user=user, organisation=organisation, roles=frozenset(membership.roles))
