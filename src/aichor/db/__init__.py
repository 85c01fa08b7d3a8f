"""The records that persist: organisations, people, projects, engines, experiments.

Handed a database URL (SQLite by default, PostgreSQL in production) through Settings.
May import: sqlalchemy, alembic, aichor.lifecycle, aichor.settings, aichor.errors.
"""
