"""/api/audit: who did what in the organisation, newest first (Organization Admins)."""

from __future__ import annotations

from fastapi import APIRouter, Query

from aichor.api.deps import CurrentActor, DbSession
from aichor.schemas.audit import AuditEventView
from aichor.services import audit

router = APIRouter(prefix="/api/audit", tags=["audit"])


@router.get("")
def list_events(
    db: DbSession, actor: CurrentActor, limit: int = Query(100, ge=1, le=1000)
) -> list[AuditEventView]:
    return audit.list_events(db, actor, limit=limit)
