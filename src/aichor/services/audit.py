"""The audit log: who did what, recorded by the service that did it, read by Organization Admins."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from aichor.db import tables
from aichor.schemas.audit import AuditEventView
from aichor.services.access import Actor, require_role


def record(
    session: Session,
    actor: Actor | None,
    action: str,
    *,
    target: str = "",
    detail: dict[str, Any] | None = None,
    organisation_id: str | None = None,
) -> None:
    """Insert an audit event in the session's transaction (committed with the change it
    describes, rolled back with it).

    A Core INSERT rather than an ORM object: every submission writes one, and the ORM's flush
    of a single object costs more than the statement. The session flushes pending objects
    first, as for any statement. `detail` must never hold secrets: no passwords, tokens or
    sensitive variable values.
    """
    session.execute(
        _INSERT,
        event_row(actor, action, target=target, detail=detail, organisation_id=organisation_id),
    )


def event_row(
    actor: Actor | None,
    action: str,
    *,
    target: str = "",
    detail: dict[str, Any] | None = None,
    organisation_id: str | None = None,
) -> dict[str, Any]:
    """Every column of a new audit event: for `record`, and for a submission, which writes its
    event in the same statement as the experiment on PostgreSQL (`services.experiment_insert`)."""
    return {
        "id": tables.new_id(),
        "organisation_id": actor.organisation_id if actor else organisation_id,
        "user_id": actor.user_id if actor else None,
        "action": action,
        "target": target,
        "detail": detail or {},
        "at": tables.utcnow(),
    }


_INSERT = insert(tables.Base.metadata.tables[tables.AuditEvent.__tablename__])


def list_events(session: Session, actor: Actor, *, limit: int = 100) -> list[AuditEventView]:
    """The organisation's events, newest first."""
    require_role(actor)
    query = (
        select(tables.AuditEvent, tables.User.email)
        .outerjoin(tables.User, tables.User.id == tables.AuditEvent.user_id)
        .where(tables.AuditEvent.organisation_id == actor.organisation_id)
        .order_by(tables.AuditEvent.at.desc(), tables.AuditEvent.id.desc())
        .limit(min(max(limit, 1), 1000))
    )
    return [
        AuditEventView(
            id=event.id,
            at=event.at,
            user_email=email,
            action=event.action,
            target=event.target,
            detail=event.detail,
        )
        for event, email in session.execute(query)
    ]
