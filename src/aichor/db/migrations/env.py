"""Alembic environment: run by `aichor.db.migrate.upgrade_database` with a live connection."""

from __future__ import annotations

from alembic import context

from aichor.db.tables import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
