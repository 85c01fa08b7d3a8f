"""Pooled PostgreSQL connections survive the database closing them while they idle.

Each test closes a pooled connection for real, from the server side (`pg_terminate_backend`,
what a database restart or an idle timeout does), on the PostgreSQL running on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from aichor.db import session as sessions
from aichor.db.session import Engine, make_engine, session
from aichor.settings import Settings
from tests.db.databases import POSTGRES_ADMIN, postgres_database


@pytest.fixture
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    with postgres_database() as url:
        engine = make_engine(Settings(home=tmp_path_factory.mktemp("home"), database_url=url))
        yield engine
        engine.dispose()


def _backend(engine: Engine) -> int:
    with session(engine) as db:
        return int(db.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(pid: int) -> None:
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


def test_a_connection_closed_while_idle_is_replaced_before_use(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sessions, "PING_AFTER_IDLE_SECONDS", 0.0)
    closed = _backend(engine)
    _terminate(closed)

    assert _backend(engine) != closed  # the unit of work ran, on a fresh connection
    assert engine.pool.checkedout() == 0


def test_a_busy_pool_does_not_ping(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Within the idle allowance a connection goes out unchecked: a closed one fails that one
    unit of work (rolled back), and the pool replaces it for the next."""
    monkeypatch.setattr(sessions, "PING_AFTER_IDLE_SECONDS", 3600.0)
    closed = _backend(engine)
    _terminate(closed)

    with pytest.raises(OperationalError):
        _backend(engine)
    assert _backend(engine) != closed
