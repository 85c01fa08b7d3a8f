"""Engines and sessions: the only module that reads the database URL.

`make_engine(settings)` returns one shared engine per URL (SQLite gets WAL, foreign keys and a
busy timeout on every connection); `session(engine)` is a unit of work that commits on success
and rolls back on error. Callers: aichor.app, aichor.pipeline, tests.

SQLite has one writer at a time, and a connection that finds the write lock taken sleeps in
its busy handler (1, 2, 5, 10, ... ms) before it looks again, so concurrent writers in one
process spend most of their time asleep. The threads of a process therefore queue for the
write lock on a Python lock (`_SqliteWriters`): a connection takes it before its first write
statement and gives it back when its transaction ends. Other processes (`aichor worker`) still
meet through SQLite's own lock and busy timeout, as before.

A pooled PostgreSQL connection is pinged at check-out only when it has sat unused in the pool
for `PING_AFTER_IDLE_SECONDS` (`_ping_idle_connections`): that is when a database restart or
an idle timeout can have closed it. Pinging every check-out (`pool_pre_ping`) cost one more
round trip per request, about a sixth of a submission's; under load a connection is back in
use within milliseconds, and one that broke meanwhile fails that unit of work (rolled back)
and is replaced.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.orm import Session, sessionmaker

from aichor.settings import Settings

__all__ = ["Engine", "Session", "dispose_engines", "make_engine", "session"]

SQLITE_BUSY_TIMEOUT_MS = 30_000
PING_AFTER_IDLE_SECONDS = 2.0

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
        _SqliteWriters(engine)
        return engine
    engine = create_engine(url, pool_size=10, max_overflow=20)
    _ping_idle_connections(engine)
    return engine


def _ping_idle_connections(engine: Engine) -> None:
    """Ping a connection at check-out if it idled in the pool (see the module docstring); a
    dead one is replaced by the pool, which retries the check-out with a fresh connection."""
    dialect = engine.dialect

    def checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            alive = dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if not dialect.is_disconnect(error, dbapi_connection, None):
                raise
            alive = False
        if not alive:
            raise exc.DisconnectionError("the pooled connection is closed")

    event.listen(engine.pool, "checkin", checkin)
    event.listen(engine.pool, "checkout", checkout)


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


_READS = ("SELECT", "PRAGMA")


class _SqliteWriters:
    """One writer at a time among this engine's connections (see the module docstring)."""

    def __init__(self, engine: Engine) -> None:
        self._lock = threading.Lock()
        self._holder: int | None = None
        """id() of the DBAPI connection whose transaction holds the lock."""
        dialect: Any = engine.dialect
        commit, rollback = dialect.do_commit, dialect.do_rollback

        def do_commit(dbapi_connection: Any) -> None:
            try:
                commit(dbapi_connection)
            finally:
                self.release(dbapi_connection)

        def do_rollback(dbapi_connection: Any) -> None:
            try:
                rollback(dbapi_connection)
            finally:
                self.release(dbapi_connection)

        dialect.do_commit, dialect.do_rollback = do_commit, do_rollback
        event.listen(engine, "before_cursor_execute", self._before_execute)
        event.listen(engine.pool, "checkin", self._checkin)
        event.listen(engine.pool, "close", self._checkin)

    def _before_execute(
        self, conn: Any, _cursor: Any, statement: str, *_args: Any, **_kwargs: Any
    ) -> None:
        if statement.lstrip()[:6].upper().startswith(_READS):
            return
        dbapi_connection = conn.connection.dbapi_connection
        if self._holder == id(dbapi_connection):
            return
        # Past the busy timeout, go on and let SQLite's own lock decide, exactly as without us.
        if self._lock.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
            self._holder = id(dbapi_connection)

    def release(self, dbapi_connection: Any) -> None:
        if dbapi_connection is not None and self._holder == id(dbapi_connection):
            self._holder = None
            self._lock.release()

    def _checkin(self, dbapi_connection: Any, _record: Any) -> None:
        self.release(dbapi_connection)


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
