"""People: users, argon2 passwords, password login with a rate limit, organisation members.

Callers: api/auth.py and api/users.py, bootstrap (first admin), invitations (new users).
"""

from __future__ import annotations

from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from aichor.db import tables
from aichor.errors import Conflict, InvalidInput, NotFound, RateLimited, Unauthorized
from aichor.schemas.accounts import MeView, OrganisationRef, UserView
from aichor.services import audit
from aichor.services.access import ORG_ADMIN, Actor, actor_for, require_role, validate_roles

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a password: spends the time of a real check")
MIN_PASSWORD = 8


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(
            f"password must have at least {MIN_PASSWORD} characters", field="password"
        )
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; spends the same time when there is no hash."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        raise InvalidInput(f"{email!r} is not an e-mail address", field="email")
    return email


def find_user(session: Session, email: str) -> tables.User | None:
    return session.scalars(
        select(tables.User).where(tables.User.email == email.strip().lower())
    ).one_or_none()


def create_user(
    session: Session, *, email: str, password: str | None, name: str = ""
) -> tables.User:
    """A new user (no organisation yet); Conflict when the e-mail is taken."""
    email = normalise_email(email)
    if find_user(session, email) is not None:
        raise Conflict(f"a user with e-mail {email} already exists")
    user = tables.User(
        email=email, name=name, password_hash=hash_password(password) if password else None
    )
    session.add(user)
    session.flush()
    return user


def add_member(
    session: Session, *, organisation_id: str, user_id: str, roles: list[str]
) -> tables.Membership:
    """Put a user in an organisation, or merge the roles when they are already a member."""
    membership = session.scalars(
        select(tables.Membership).where(
            tables.Membership.organisation_id == organisation_id,
            tables.Membership.user_id == user_id,
        )
    ).one_or_none()
    if membership is None:
        membership = tables.Membership(organisation_id=organisation_id, user_id=user_id, roles=[])
        session.add(membership)
    membership.roles = validate_roles([*membership.roles, *roles])
    session.flush()
    return membership


def login(
    session: Session,
    *,
    email: str,
    password: str,
    organisation: str | None = None,
    max_failures: int = 5,
    window_seconds: int = 900,
) -> Actor:
    """The Actor for a correct e-mail and password; Unauthorized otherwise, RateLimited after
    `max_failures` failures for this e-mail within the window (failures are kept in the DB so
    that every server process counts them)."""
    email = email.strip().lower()
    since = tables.utcnow() - timedelta(seconds=window_seconds)
    failures = session.scalar(
        select(func.count())
        .select_from(tables.LoginFailure)
        .where(tables.LoginFailure.email == email, tables.LoginFailure.at >= since)
    )
    if (failures or 0) >= max_failures:
        raise RateLimited("too many failed logins for this e-mail; try again in a few minutes")
    user = find_user(session, email)
    if user is None or not user.is_active or not verify_password(user.password_hash, password):
        _record_failure(session, email, since)
        raise Unauthorized("wrong e-mail or password")
    actor = actor_for(session, user, _organisation_id(session, user, organisation))
    session.execute(delete(tables.LoginFailure).where(tables.LoginFailure.email == email))
    audit.record(session, actor, "auth.login")
    return actor


def _record_failure(session: Session, email: str, since: object) -> None:
    session.execute(delete(tables.LoginFailure).where(tables.LoginFailure.at < since))
    session.add(tables.LoginFailure(email=email))
    session.commit()  # kept even though the request fails


def _organisation_id(session: Session, user: tables.User, organisation: str | None) -> str:
    query = (
        select(tables.Organisation.id)
        .join(tables.Membership, tables.Membership.organisation_id == tables.Organisation.id)
        .where(tables.Membership.user_id == user.id)
    )
    if organisation:
        query = query.where(
            (tables.Organisation.name == organisation) | (tables.Organisation.id == organisation)
        )
    ids = list(session.scalars(query.limit(2)))
    if not ids:
        raise Unauthorized("this user belongs to no such organisation")
    if len(ids) > 1:
        raise InvalidInput("this user is in several organisations; name one", field="organisation")
    return ids[0]


def me(session: Session, actor: Actor) -> MeView:
    return MeView(
        id=actor.user_id,
        email=actor.user.email,
        name=actor.user.name,
        organisation=OrganisationRef(id=actor.organisation_id, name=actor.organisation.name),
        roles=sorted(actor.roles),
    )


def list_members(session: Session, actor: Actor) -> list[UserView]:
    """Members of the actor's organisation with their roles (Organization Admins)."""
    require_role(actor)
    rows = session.execute(
        select(tables.User, tables.Membership.roles)
        .join(tables.Membership, tables.Membership.user_id == tables.User.id)
        .where(tables.Membership.organisation_id == actor.organisation_id)
        .order_by(tables.User.email)
    )
    return [user_view(user, roles) for user, roles in rows]


def set_roles(session: Session, actor: Actor, *, user_id: str, roles: list[str]) -> UserView:
    """Replace a member's roles; the organisation always keeps one Organization Admin."""
    require_role(actor)
    roles = validate_roles(roles)
    membership = session.scalars(
        select(tables.Membership)
        .where(
            tables.Membership.organisation_id == actor.organisation_id,
            tables.Membership.user_id == user_id,
        )
        .with_for_update()
    ).one_or_none()
    if membership is None:
        raise NotFound(f"user {user_id} not found")
    if ORG_ADMIN in membership.roles and ORG_ADMIN not in roles:
        _keep_one_admin(session, actor)
    membership.roles = roles
    audit.record(session, actor, "user.roles", target=user_id, detail={"roles": roles})
    user = session.get_one(tables.User, user_id)
    return user_view(user, roles)


def _keep_one_admin(session: Session, actor: Actor) -> None:
    memberships = session.scalars(
        select(tables.Membership).where(tables.Membership.organisation_id == actor.organisation_id)
    )
    if sum(ORG_ADMIN in m.roles for m in memberships) <= 1:
        raise Conflict(
            "the organisation must keep at least one OrganizationAdmin",
        )


def user_view(user: tables.User, roles: list[str] | None = None) -> UserView:
    return UserView(id=user.id, email=user.email, name=user.name, roles=list(roles or []))
