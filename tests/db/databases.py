"""Database fixtures shared by the control-plane tests: import them into a conftest.

`db_settings` is parametrised sqlite|postgresql. Each test module gets its own database (a
SQLite file, or a fresh PostgreSQL database on 127.0.0.1:5432 dropped afterwards), migrated
once; every test then starts from empty tables.

    from tests.db.databases import db, db_engine, db_settings  # noqa: F401
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from pydantic import SecretStr
from sqlalchemy import delete

from aichor.db import tables
from aichor.db.migrate import upgrade_database
from aichor.db.session import Engine, Session, make_engine, session
from aichor.settings import Settings

POSTGRES_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
FIXED_KEY = SecretStr("k" * 32)
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def _postgres(statement: str) -> None:
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as connection:
        connection.execute(statement)  # type: ignore[arg-type,unused-ignore]


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for one test module; its URL, dropped afterwards."""
    name = f"aichor_test_{uuid.uuid4().hex[:12]}"
    _postgres(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES_URL.format(name=name)
    finally:
        _postgres(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def db_settings(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    home = tmp_path_factory.mktemp("home")
    if request.param == "sqlite":
        yield Settings(home=home, secret_key=FIXED_KEY)
        return
    name = f"aichor_test_{uuid.uuid4().hex[:12]}"
    _postgres(f'CREATE DATABASE "{name}"')
    try:
        yield Settings(
            home=home,
            database_url=POSTGRES_URL.format(name=name),
            secret_key=FIXED_KEY,
        )
    finally:
        make_engine(Settings(home=home, database_url=POSTGRES_URL.format(name=name))).dispose()
        _postgres(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def db_engine(db_settings: Settings) -> Iterator[Engine]:
    upgrade_database(db_settings)
    engine = make_engine(db_settings)
    yield engine
    engine.dispose()


@pytest.fixture
def db(db_engine: Engine) -> Iterator[Session]:
    """A session on an empty, migrated database; the tables are emptied after the test."""
    with session(db_engine) as s:
        yield s
    with session(db_engine) as s:
        for table in reversed(tables.Base.metadata.sorted_tables):
            s.execute(delete(table))
