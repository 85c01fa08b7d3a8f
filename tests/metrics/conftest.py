"""Database fixtures for the tests of aichor.metrics."""

from tests.db.databases import db, db_engine, db_settings  # noqa: F401
