"""The INSERTs of a new experiment: its row, its steps and its audit event, one transaction.

Called by `services.experiments` when it queues a submission. On PostgreSQL the three tables
are written by ONE statement (data-modifying CTEs) with three parameters, the rows as JSON
(`json_populate_record`): one round trip and one pass through SQLAlchemy and psycopg instead
of three, and three parameters to adapt instead of about ninety (psycopg converts a query
with more than 50 parameters again on every execution). The rows are exactly those of the
three Core INSERTs that SQLite (and any other database) still gets: every column is named,
and every value is given. The steps' foreign key to the experiment is checked at the end of
the statement, when the experiment row exists. Decision 081.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, TextClause, insert, text
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
        params = {
            "experiment": _ENCODE(experiment),
            "steps": _ENCODE(steps),
            "event": _ENCODE(audit_event),
        }
        session.execute(_ONE_STATEMENT, params)
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


def _insert(table: Table, param: str, populate: str) -> str:
    """`INSERT INTO table (every column) SELECT (the same) FROM <populate>(NULL::table, :param)`:
    every column named, so a column the model does not know keeps its database default."""
    quote = _PREPARER.quote
    columns = ", ".join(quote(column.name) for column in table.columns)
    name = quote(table.name)
    return (
        f"INSERT INTO {name} ({columns}) "  # noqa: S608 - names from the model, values bound
        f"SELECT {columns} FROM {populate}(NULL::{name}, CAST(:{param} AS json))"
    )


def _one_statement() -> TextClause:
    return text(
        f"WITH new_experiment AS ({_insert(_EXPERIMENTS, 'experiment', 'json_populate_record')}), "
        f"new_steps AS ({_insert(_STEPS, 'steps', 'json_populate_recordset')}) "
        + _insert(_AUDIT, "event", "json_populate_record")
    )


_PREPARER = postgresql.dialect().identifier_preparer
_ONE_STATEMENT = _one_statement()
