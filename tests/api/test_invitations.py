"""Invitations: the link is returned and logged when SMTP is not configured; expired and used
links are refused with nothing written."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from aichor.db import tables
from aichor.db.session import Session
from tests.api.world import World

NEW_PASSWORD = "a brand new password"  # noqa: S105 (test fixture)


def _invite(client: Any, world: World, email: str = "new@a.test") -> dict[str, Any]:
    response = client.post(
        "/api/invitations",
        json={"email": email, "roles": ["User"], "project_ids": [world.ids["project"]]},
        headers=world.headers("org_admin"),
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_without_smtp_the_link_is_logged_and_returned(
    client: Any, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="aichor.services.invitations"):
        created = _invite(client, world)
    assert created["emailed"] is False
    assert created["link"].startswith("http://127.0.0.1:8080/invitations/accept?token=")
    assert created["link"] in caplog.text


def test_accepting_creates_the_user_in_the_organisation_and_projects(
    client: Any, world: World
) -> None:
    token = _invite(client, world)["link"].split("token=")[1]
    accepted = client.post(
        "/api/invitations/accept", json={"token": token, "password": NEW_PASSWORD, "name": "New"}
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["user"]["roles"] == ["User"]
    login = client.post("/api/auth/login", json={"email": "new@a.test", "password": NEW_PASSWORD})
    assert login.status_code == 200
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    assert [p["name"] for p in client.get("/api/projects", headers=headers).json()] == ["p-a"]


def test_expired_invitation_is_400_and_writes_nothing(
    client: Any, world: World, db: Session
) -> None:
    created = _invite(client, world)
    db.execute(
        update(tables.Invitation)
        .where(tables.Invitation.id == created["id"])
        .values(expires_at=tables.utcnow() - timedelta(minutes=1))
    )
    db.commit()
    token = created["link"].split("token=")[1]
    response = client.post(
        "/api/invitations/accept", json={"token": token, "password": NEW_PASSWORD}
    )
    assert response.status_code == 400
    assert response.json()["detail"]["field"] == "token"
    assert "expired" in response.json()["detail"]["message"]
    db.expire_all()
    assert db.scalars(select(tables.User).where(tables.User.email == "new@a.test")).all() == []
    assert db.get_one(tables.Invitation, created["id"]).accepted_at is None


def test_a_used_or_unknown_link_is_400(client: Any, world: World) -> None:
    body = {"token": world.invitation_token, "password": NEW_PASSWORD}
    assert client.post("/api/invitations/accept", json=body).status_code == 200
    again = client.post("/api/invitations/accept", json=body)
    assert again.status_code == 400
    assert "already used" in again.json()["detail"]["message"]
    unknown = client.post("/api/invitations/accept", json={**body, "token": "forged"})
    assert unknown.status_code == 400


def test_an_existing_account_must_confirm_its_password(client: Any, world: World) -> None:
    token = _invite(client, world, email="project_user@a.test")["link"].split("token=")[1]
    response = client.post("/api/invitations/accept", json={"token": token, "password": "x" * 10})
    assert response.status_code == 400
    assert response.json()["detail"]["field"] == "password"


def test_unknown_roles_and_foreign_projects_are_refused(client: Any, world: World) -> None:
    headers = world.headers("org_admin")
    bad_role = client.post(
        "/api/invitations", json={"email": "x@a.test", "roles": ["God"]}, headers=headers
    )
    assert bad_role.status_code == 400
    assert bad_role.json()["detail"]["field"] == "roles"
    foreign = client.post(
        "/api/invitations",
        json={"email": "x@a.test", "project_ids": ["nope"]},
        headers=headers,
    )
    assert foreign.status_code == 400
    assert foreign.json()["detail"]["field"] == "project_ids.0"
