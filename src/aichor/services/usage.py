"""Usage and cost: the usage records (CPU-, memory GiB- and GPU-seconds requested while an
experiment ran, written by `pipeline.outcome.record_usage`) priced with the organisation's rates
and summed over a period. FinOps Admins and Organization Admins read the reports; a record that
straddles the period is counted pro rata.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from aichor.db import tables
from aichor.errors import InvalidInput
from aichor.schemas.usage import GroupBy, Prices, UsageRow, UsageView
from aichor.services import audit
from aichor.services.access import FINOPS_ADMIN, Actor, require_role

HOUR = 3600.0


def get_prices(session: Session, actor: Actor) -> Prices:
    require_role(actor, FINOPS_ADMIN)
    return Prices.model_validate(actor.organisation.prices or {})


def set_prices(session: Session, actor: Actor, *, prices: Prices) -> Prices:
    require_role(actor, FINOPS_ADMIN)
    organisation = session.get_one(tables.Organisation, actor.organisation_id)
    organisation.prices = prices.model_dump()
    audit.record(session, actor, "organisation.prices", detail=prices.model_dump())
    return prices


def usage_report(
    session: Session,
    actor: Actor,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    group_by: GroupBy = "project",
) -> UsageView:
    """Usage and cost over [start, end) (default: the last 30 days), grouped."""
    require_role(actor, FINOPS_ADMIN)
    end = end or tables.utcnow()
    start = start or end - timedelta(days=30)
    if start >= end:
        raise InvalidInput("start must be before end", field="start")
    prices = Prices.model_validate(actor.organisation.prices or {})
    records = session.scalars(
        select(tables.UsageRecord).where(
            tables.UsageRecord.organisation_id == actor.organisation_id,
            tables.UsageRecord.ended_at > start,
            tables.UsageRecord.started_at < end,
        )
    )
    sums: dict[str, _Sum] = defaultdict(_Sum)
    for record in records:
        sums[_key(actor, record, group_by)].add(record, _overlap(record, start, end))
    names = _names(session, actor, group_by, set(sums))
    rows = [s.row(key, names.get(key, key), prices) for key, s in sorted(sums.items())]
    total = round(sum(r.cost for r in rows), 6)
    return UsageView(
        start=start, end=end, group_by=group_by, prices=prices, rows=rows, total_cost=total
    )


class _Sum:
    def __init__(self) -> None:
        self.experiments = 0
        self.cpu = 0.0
        self.memory = 0.0
        self.gpus: dict[str, float] = defaultdict(float)

    def add(self, record: tables.UsageRecord, fraction: float) -> None:
        self.experiments += 1
        self.cpu += record.cpu_seconds * fraction
        self.memory += record.memory_gib_seconds * fraction
        for product, seconds in record.gpu_seconds.items():
            self.gpus[product] += float(seconds) * fraction

    def row(self, key: str, name: str, prices: Prices) -> UsageRow:
        gpu_hours = {p: s / HOUR for p, s in self.gpus.items()}
        cost = (
            self.cpu / HOUR * prices.cpu_hour
            + self.memory / HOUR * prices.memory_gib_hour
            + sum(h * prices.gpu_hour.get(p, 0.0) for p, h in gpu_hours.items())
        )
        return UsageRow(
            key=key,
            name=name,
            experiments=self.experiments,
            cpu_hours=self.cpu / HOUR,
            memory_gib_hours=self.memory / HOUR,
            gpu_hours=gpu_hours,
            cost=round(cost, 6),
        )


def _overlap(record: tables.UsageRecord, start: datetime, end: datetime) -> float:
    duration = (record.ended_at - record.started_at).total_seconds()
    if duration <= 0:
        return 1.0
    inside = (min(record.ended_at, end) - max(record.started_at, start)).total_seconds()
    return max(0.0, min(1.0, inside / duration))


def _key(actor: Actor, record: tables.UsageRecord, group_by: GroupBy) -> str:
    if group_by == "project":
        return record.project_id
    if group_by == "user":
        return record.user_id
    if group_by == "engine":
        return record.engine_id
    return actor.organisation_id


def _names(session: Session, actor: Actor, group_by: GroupBy, keys: set[str]) -> dict[str, str]:
    if group_by == "organisation":
        return {actor.organisation_id: actor.organisation.name}
    if group_by == "user":
        users = select(tables.User.id, tables.User.email).where(tables.User.id.in_(keys))
        return {k: v for k, v in session.execute(users)}
    table = tables.Project if group_by == "project" else tables.Engine
    rows = select(table.id, table.name).where(table.id.in_(keys))
    return {k: v for k, v in session.execute(rows)}
