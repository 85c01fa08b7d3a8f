"""The app's start: migrations, the embedded defaults, the first admin printed once."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from fastapi import FastAPI

from aichor.app import create_app
from aichor.db.session import Session
from aichor.settings import Settings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def test_first_start_creates_the_defaults_and_prints_the_admin_once(
    app: FastAPI, db: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    with TestClient(app):
        pass
    printed = capsys.readouterr().err
    assert "First admin created: admin@aichor.local" in printed
    password = printed.split("password: ")[1].split()[0]
    with TestClient(app) as client:
        token = _login(client, "admin@aichor.local", password)
        headers = {"Authorization": f"Bearer {token}"}
        [engine] = client.get("/api/engines", headers=headers).json()
        [project] = client.get("/api/projects", headers=headers).json()
    assert capsys.readouterr().err == ""  # second start: nothing printed
    assert (engine["name"], engine["kind"]) == ("local", "local")
    assert engine["cpus"] >= 1 and engine["memory_gib"] > 0
    assert project["name"] == "default"
    assert project["default_engine_id"] == engine["id"]


def test_admin_from_the_environment(app_settings: Settings, db: Session) -> None:
    settings = app_settings.model_copy(
        update={"admin_email": "Boss@Example.org", "admin_password": "from-the-env-123"}
    )
    settings = Settings.model_validate(
        settings.model_dump() | {"admin_password": "from-the-env-123"}
    )
    with TestClient(create_app(settings)) as client:
        token = _login(client, "boss@example.org", "from-the-env-123")
        me = client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["organisation"]["name"] == "default"
    assert "OrganizationAdmin" in me["roles"]


def _login(client: Any, email: str, password: str) -> str:
    response = client.post("/api/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token
