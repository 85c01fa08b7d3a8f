"""The first migration creates exactly the tables in aichor.db.tables, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, text

from aichor.db import tables
from aichor.db.migrate import alembic_config, current_revision, head_revision, upgrade_database
from aichor.db.session import Engine, Session, session
from aichor.settings import Settings


def test_upgrade_reaches_head_and_is_idempotent(db_settings: Settings, db_engine: Engine) -> None:
    upgrade_database(db_settings)

    assert current_revision(db_settings) == head_revision() == "0007_metrics"


def test_migrated_schema_matches_the_tables(db_engine: Engine) -> None:
    with db_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, tables.Base.metadata)
    assert diff == []


def test_sqlite_connections_use_wal_and_foreign_keys(db_engine: Engine) -> None:
    if db_engine.dialect.name != "sqlite":
        return
    with db_engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 30000


def test_datetimes_come_back_aware_in_utc(db: Session, db_engine: Engine) -> None:
    paris = timezone(timedelta(hours=1))
    org = tables.Organisation(name="tz", created_at=datetime(2026, 1, 1, 12, tzinfo=paris))
    db.add(org)
    db.commit()
    with session(db_engine) as other:
        created = other.scalars(select(tables.Organisation.created_at)).one()
    assert created == datetime(2026, 1, 1, 11, tzinfo=UTC)
    assert created.tzinfo is not None


def test_session_rolls_back_on_error(db_engine: Engine) -> None:
    try:
        with session(db_engine) as s:
            s.add(tables.Organisation(name="half-written"))
            s.flush()
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    with session(db_engine) as s:
        assert s.scalars(select(tables.Organisation)).all() == []


def test_downgrade_to_nothing_and_back(db_settings: Settings, db_engine: Engine) -> None:
    with db_engine.connect() as connection:
        command.downgrade(alembic_config(connection), "base")
        connection.commit()
    assert current_revision(db_settings) is None
    upgrade_database(db_settings)
    assert current_revision(db_settings) == head_revision()
