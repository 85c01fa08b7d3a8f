"""API fixtures: a migrated database (sqlite|postgresql), the app without pipeline workers, and
a synchronous client driving it in-process."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from fastapi import FastAPI

from aichor.app import create_app
from aichor.db.session import Session
from aichor.settings import Settings
from tests.api.world import World, build_world
from tests.db.databases import db, db_engine, db_settings  # noqa: F401

with warnings.catch_warnings():
    # Starlette suggests httpx2; the TestClient works with httpx, which the project uses.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient as TestClient


@pytest.fixture(scope="module")
def app_settings(db_settings: Settings) -> Settings:  # noqa: F811
    return db_settings.model_copy(update={"workers": 0})


@pytest.fixture(scope="module")
def app(app_settings: Settings, db_engine: object) -> FastAPI:  # noqa: F811
    return create_app(app_settings)


@pytest.fixture
def client(app: FastAPI, db: Session) -> Iterator[TestClient]:  # noqa: F811
    """A client on the app, without lifespan (the database is migrated by `db_engine`)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        test_client = TestClient(app)
    yield test_client
    test_client.close()


@pytest.fixture
def world(db: Session, app_settings: Settings) -> World:  # noqa: F811
    return build_world(db, app_settings)
