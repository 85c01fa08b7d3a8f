"""The INSERTs of a new experiment: its row, its steps and its audit event, one transaction.

Called by `services.experiments` when it queues a submission. On PostgreSQL the three tables
are written by ONE statement (data-modifying CTEs) with one parameter, the rows as JSON
(`json_populate_record`): one round trip and one pass through SQLAlchemy and psycopg instead
of three, and one parameter to adapt instead of about ninety (psycopg converts a query with
more than 50 parameters again on every execution; SQLAlchemy cannot cache the compiled form
of INSERT CTEs with multi-row VALUES and compiled it again each time, about 2 ms of CPU).
The rows are exactly those of the three Core INSERTs that SQLite (and any other database)
still gets: every column is named, and every value is given. The steps' foreign key to the
experiment is checked at the end of the statement, when the experiment row exists. Decision
081.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from aichor.db import tables

_EXPERIMENTS = tables.Base.metadata.tables[tables.Experiment.__tablename__]
_STEPS = tables.Base.metadata.tables[tables.ExperimentStep.__tablename__]
_AUDIT = tables.Base.metadata.tables[tables.AuditEvent.__tablename__]

_INSERT_EXPERIMENT = insert(_EXPERIMENTS)
_INSERT_STEPS = insert(_STEPS)
_INSERT_AUDIT = insert(_AUDIT)


def insert_experiment(
    session: Session,
    experiment: dict[str, Any],
    steps: list[dict[str, Any]],
    audit_event: dict[str, Any],
) -> None:
    """Write a new experiment, its steps and its audit event (each dict holding every column)
    in the session's transaction."""
    if session.get_bind().dialect.name == "postgresql":
        rows = _ENCODE({"experiment": experiment, "steps": steps, "event": audit_event})
        session.flush()  # pending objects first, as `session.execute` would (nothing, usually)
        session.connection().exec_driver_sql(_ONE_STATEMENT, {"rows": rows})
        return
    session.execute(_INSERT_EXPERIMENT, experiment)
    session.execute(_INSERT_STEPS, steps)
    session.execute(_INSERT_AUDIT, audit_event)


def _datetime(value: object) -> str:
    """JSON for a datetime, in UTC as `UtcDateTime` binds it (microseconds kept)."""
    if not isinstance(value, datetime):
        raise TypeError(f"cannot write {type(value).__name__} into an experiment row")
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.isoformat()


_ENCODE = json.JSONEncoder(default=_datetime, ensure_ascii=False, allow_nan=False).encode


def _insert(table: Table, key: str, populate: str) -> str:
    """`INSERT INTO table (every column) SELECT (the same) FROM <populate>(NULL::table, rows
    ->key)`: every column named, so a column the model does not know keeps its default."""
    quote = _PREPARER.quote
    columns = ", ".join(quote(column.name) for column in table.columns)
    name = quote(table.name)
    return (
        f"INSERT INTO {name} ({columns}) "  # noqa: S608 - names from the model, values bound
        f"SELECT {columns} FROM {populate}(NULL::{name}, (SELECT rows->'{key}' FROM given))"
    )


def _one_statement() -> str:
    """The statement as the driver gets it (psycopg's `%(name)s` parameter): it is run with
    `exec_driver_sql`, past SQLAlchemy's compilation and cache look-up."""
    return (
        "WITH given AS (SELECT CAST(%(rows)s AS json) AS rows), "
        f"new_experiment AS ({_insert(_EXPERIMENTS, 'experiment', 'json_populate_record')}), "
        f"new_steps AS ({_insert(_STEPS, 'steps', 'json_populate_recordset')}) "
        + _insert(_AUDIT, "event", "json_populate_record")
    )


_PREPARER = postgresql.dialect().identifier_preparer  # type: ignore[no-untyped-call]
_ONE_STATEMENT = _one_statement()
