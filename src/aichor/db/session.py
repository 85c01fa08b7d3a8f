"""Engines and sessions: the only module that reads the database URL.

`make_engine(settings)` returns one shared engine per URL (SQLite gets WAL, foreign keys and a
busy timeout on every connection); `session(engine)` is a unit of work that commits on success
and rolls back on error. Callers: aichor.app, aichor.pipeline, tests.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from aichor.settings import Settings

__all__ = ["Engine", "Session", "dispose_engines", "make_engine", "session"]

SQLITE_BUSY_TIMEOUT_MS = 30_000

_engines: dict[str, Engine] = {}
_factories: dict[int, sessionmaker[Session]] = {}
_lock = threading.Lock()


def make_engine(settings: Settings) -> Engine:
    """The process-wide engine for `settings.database_url` (created on first use)."""
    url = settings.database_url
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _create(url)
            _engines[url] = engine
            _factories[id(engine)] = sessionmaker(engine, expire_on_commit=False)
        return engine


def _create(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "do_connect", _sqlite_directory)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def _sqlite_directory(dialect: Any, _record: Any, cargs: Any, _cparams: Any) -> None:
    """Create the database file's directory on first connection (not when the app is built)."""
    database = cargs[0] if cargs else ""
    if database and database != ":memory:" and not str(database).startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@contextmanager
def session(engine: Engine) -> Iterator[Session]:
    """A session that commits when the block ends normally and rolls back otherwise."""
    factory = _factories.get(id(engine)) or sessionmaker(engine, expire_on_commit=False)
    with factory() as db:
        try:
            yield db
            db.commit()
        except BaseException:
            db.rollback()
            raise


def dispose_engines() -> None:
    """Close every pooled connection (tests, and the server on shutdown)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _factories.clear()
