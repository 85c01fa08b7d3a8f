"""Log retention: how many days an organisation keeps logs, and the purge that applies it.

An experiment's logs (the store's folder and the engine's copy) are deleted once it ended
more than `organisation.log_retention_days` ago (30 by default); the experiment keeps its
record and says when its logs were purged (`logs_purged_at`). `LogPurger` runs the purge in
the server (started by `aichor.app`'s lifespan) every `settings.log_purge_interval_seconds`.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from aichor.db import tables
from aichor.db.session import make_engine, session
from aichor.engines.local.detached import DetachedLocalEngine
from aichor.logs.store import LogStore
from aichor.schemas.experiments import LogRetention
from aichor.services import audit
from aichor.services.access import ORG_ADMIN, Actor, require_role
from aichor.settings import Settings

log = logging.getLogger(__name__)
_BATCH = 200


def get_retention(session: Session, actor: Actor) -> LogRetention:
    organisation = session.get_one(tables.Organisation, actor.organisation_id)
    return LogRetention(days=organisation.log_retention_days)


def set_retention(session: Session, actor: Actor, *, retention: LogRetention) -> LogRetention:
    """Organization Admins only; applies at the next purge, to experiments already ended too."""
    require_role(actor, ORG_ADMIN)
    organisation = session.get_one(tables.Organisation, actor.organisation_id)
    organisation.log_retention_days = retention.days
    audit.record(session, actor, "organisation.log_retention", detail=retention.model_dump())
    return retention


def purge_expired_logs(settings: Settings, now: datetime | None = None) -> list[str]:
    """Delete the logs of every experiment past its organisation's retention; their ids."""
    now = now or tables.utcnow()
    store = LogStore(settings.logs_dir)
    engine = DetachedLocalEngine(state_dir=settings.runs_dir, cache_dir=settings.cache_dir)
    purged: list[str] = []
    while True:
        with session(make_engine(settings)) as db:
            expired = _expired(db, now)
        for experiment_id, workload in expired:
            store.delete(experiment_id)
            if workload:
                engine.delete_logs(workload)
        ids = [experiment_id for experiment_id, _ in expired]
        if not ids:
            return purged
        with session(make_engine(settings)) as db:
            db.execute(
                update(tables.Experiment)
                .where(tables.Experiment.id.in_(ids))
                .values(logs_purged_at=now)
                .execution_options(synchronize_session=False)
            )
        purged += ids
        if len(expired) < _BATCH:
            return purged


def _expired(db: Session, now: datetime) -> list[tuple[str, str]]:
    """(id, workload name) of ended experiments past retention whose logs are still kept.

    The cut-off is per organisation, so each organisation is one indexed range query.
    """
    found: list[tuple[str, str]] = []
    for org_id, days in db.execute(
        select(tables.Organisation.id, tables.Organisation.log_retention_days)
    ):
        cutoff = now - timedelta(days=days)
        rows = db.execute(
            select(tables.Experiment.id, tables.Experiment.workload_name)
            .where(
                tables.Experiment.logs_purged_at.is_(None),
                tables.Experiment.finished_at < cutoff,
                tables.Experiment.organisation_id == org_id,
            )
            .limit(_BATCH - len(found))
        )
        found += [(row.id, row.workload_name) for row in rows]
        if len(found) >= _BATCH:
            break
    return found


class LogPurger:
    """A daemon thread purging expired logs at start and then every interval."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="log-purge", daemon=True)

    def start(self) -> LogPurger:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                purged = purge_expired_logs(self.settings)
                if purged:
                    log.info("purged the logs of %d experiment(s) past retention", len(purged))
            except Exception:  # a database hiccup must not end the purge for good
                log.exception("log purge")
            self._stop.wait(self.settings.log_purge_interval_seconds)
