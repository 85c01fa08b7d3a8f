"""First start of a server: the embedded defaults, so that `submit local` works at once.

Creates organisation `default`, a `local` engine sized to this machine, project `default` on
it, and the first Organization Admin (from AICHOR_ADMIN_EMAIL / AICHOR_ADMIN_PASSWORD, or with a
generated password that the caller prints once). Does nothing when an organisation exists.
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from aichor.db import tables
from aichor.engines.local.capacity import detect_machine
from aichor.services import accounts, audit
from aichor.services.access import ORG_ADMIN, USER
from aichor.settings import Settings

DEFAULT_ADMIN_EMAIL = "admin@aichor.local"
_BOOTSTRAP_LOCK = 0x41_49_43_42  # "AICB"


@dataclass(frozen=True)
class FirstAdmin:
    email: str
    generated_password: str | None
    """Set only when the password was generated: show it once, it is not stored in clear."""


def bootstrap(session: Session, settings: Settings) -> FirstAdmin | None:
    """Create the defaults on an empty database; None when it was already set up.

    On PostgreSQL a transaction-scoped advisory lock makes concurrent first starts wait for
    each other (SQLite serialises writers by itself)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _BOOTSTRAP_LOCK})
    if session.scalar(select(func.count()).select_from(tables.Organisation)):
        return None
    organisation = tables.Organisation(name="default")
    session.add(organisation)
    session.flush()
    engine = _local_engine(organisation.id)
    session.add(engine)
    session.flush()
    project = tables.Project(
        organisation_id=organisation.id, name="default", default_engine_id=engine.id
    )
    session.add(project)
    session.flush()
    session.add(tables.ProjectEngine(project_id=project.id, engine_id=engine.id))
    admin = _first_admin(session, settings, organisation.id)
    session.add(tables.ProjectMember(project_id=project.id, user_id=admin.user.id))
    audit.record(
        session, None, "bootstrap", target=admin.user.email, organisation_id=organisation.id
    )
    return FirstAdmin(email=admin.user.email, generated_password=admin.generated_password)


@dataclass(frozen=True)
class _Admin:
    user: tables.User
    generated_password: str | None


def _first_admin(session: Session, settings: Settings, organisation_id: str) -> _Admin:
    email = settings.admin_email or DEFAULT_ADMIN_EMAIL
    given = settings.admin_password.get_secret_value() if settings.admin_password else None
    password = given or secrets.token_urlsafe(12)
    user = accounts.find_user(session, email) or accounts.create_user(
        session, email=email, password=password, name="Administrator"
    )
    accounts.add_member(
        session, organisation_id=organisation_id, user_id=user.id, roles=[USER, ORG_ADMIN]
    )
    return _Admin(user=user, generated_password=None if given else password)


def _local_engine(organisation_id: str) -> tables.Engine:
    machine = detect_machine()
    return tables.Engine(
        organisation_id=organisation_id,
        name="local",
        kind="local",
        cpus=float(len(machine.cores)),
        memory_gib=round(machine.memory_gib, 1),
        gpus=dict(Counter(gpu.name for gpu in machine.gpus)),
    )
