"""Service tests run on a migrated database, sqlite|postgresql."""

from tests.db.databases import db, db_engine, db_settings  # noqa: F401
