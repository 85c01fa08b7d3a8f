"""Schema migrations, run programmatically: the server upgrades the database on start.

Alembic's scripts live in `migrations/`; there is no alembic.ini. Several processes may start
at once (server + workers): on PostgreSQL an advisory lock serialises the upgrade.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from aichor.db.session import make_engine
from aichor.settings import Settings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_ADVISORY_LOCK = 0x41_49_43_48  # "AICH"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade_database(settings: Settings, revision: str = "head") -> None:
    """Bring the database at `settings.database_url` to `revision` (idempotent)."""
    engine = make_engine(settings)
    with engine.connect() as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _ADVISORY_LOCK})
            connection.commit()
        try:
            command.upgrade(alembic_config(connection), revision)
            connection.commit()
        finally:
            if postgres:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _ADVISORY_LOCK})
                connection.commit()


def current_revision(settings: Settings) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    with make_engine(settings).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
