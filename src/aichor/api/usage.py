"""/api/usage, /api/organisation/prices and /api/organisation/log-retention: usage and cost
(FinOps and Organization Admins), how long logs are kept (Organization Admins)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from aichor.api.deps import CurrentActor, DbSession
from aichor.schemas.experiments import LogRetention
from aichor.schemas.usage import GroupBy, Prices, UsageView
from aichor.services import log_retention, usage

router = APIRouter(prefix="/api", tags=["usage"])


@router.get("/usage", response_model=UsageView)
def read_usage(
    db: DbSession,
    actor: CurrentActor,
    start: datetime | None = None,
    end: datetime | None = None,
    group_by: GroupBy = "project",
    format: Literal["json", "csv"] = "json",
) -> UsageView | PlainTextResponse:
    report = usage.usage_report(db, actor, start=start, end=end, group_by=group_by)
    if format == "csv":
        return PlainTextResponse(
            report.to_csv(),
            media_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="usage.csv"'},
        )
    return report


@router.get("/organisation/prices")
def read_prices(db: DbSession, actor: CurrentActor) -> Prices:
    return usage.get_prices(db, actor)


@router.put("/organisation/prices")
def set_prices(body: Prices, db: DbSession, actor: CurrentActor) -> Prices:
    return usage.set_prices(db, actor, prices=body)


@router.get("/organisation/log-retention")
def read_log_retention(db: DbSession, actor: CurrentActor) -> LogRetention:
    return log_retention.get_retention(db, actor)


@router.put("/organisation/log-retention")
def set_log_retention(body: LogRetention, db: DbSession, actor: CurrentActor) -> LogRetention:
    return log_retention.set_retention(db, actor, retention=body)
