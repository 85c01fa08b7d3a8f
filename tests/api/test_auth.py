"""Logging in: bearer tokens, browser sessions with CSRF, failures and their rate limit."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from aichor.db import tables
from aichor.db.session import Session
from tests.api.world import PASSWORD, World

EMAIL = "project_user@a.test"


def _count(db: Session, table: Any) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(table)) or 0


def test_login_returns_a_token_that_authenticates(client: Any, world: World) -> None:
    response = client.post("/api/auth/login", json={"email": EMAIL.upper(), "password": PASSWORD})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token"].startswith("aichor_")
    assert body["organisation"]["name"] == "org-a"
    me = client.get("/api/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.json()["email"] == EMAIL
    assert me.json()["roles"] == ["User"]


def test_wrong_password_is_401_and_writes_no_token(client: Any, world: World, db: Session) -> None:
    tokens_before = _count(db, tables.ApiToken)
    response = client.post("/api/auth/login", json={"email": EMAIL, "password": "nope-nope"})
    assert response.status_code == 401
    assert response.json() == {"detail": {"message": "wrong e-mail or password", "field": None}}
    assert _count(db, tables.ApiToken) == tokens_before
    assert _count(db, tables.LoginFailure) == 1


def test_unknown_email_answers_like_a_wrong_password(client: Any, world: World) -> None:
    response = client.post("/api/auth/login", json={"email": "who@a.test", "password": "x" * 9})
    assert response.status_code == 401
    assert response.json()["detail"]["message"] == "wrong e-mail or password"


def test_failed_logins_are_rate_limited(client: Any, world: World) -> None:
    for _ in range(5):
        bad = client.post("/api/auth/login", json={"email": EMAIL, "password": "wrong-guess"})
        assert bad.status_code == 401
    blocked = client.post("/api/auth/login", json={"email": EMAIL, "password": PASSWORD})
    assert blocked.status_code == 429
    assert "too many failed logins" in blocked.json()["detail"]["message"]
    other = client.post("/api/auth/login", json={"email": "org_admin@a.test", "password": "x" * 9})
    assert other.status_code == 401  # the limit is per e-mail


def test_a_success_resets_the_failure_count(client: Any, world: World, db: Session) -> None:
    for _ in range(4):
        client.post("/api/auth/login", json={"email": EMAIL, "password": "wrong-guess"})
    assert client.post("/api/auth/login", json={"email": EMAIL, "password": PASSWORD}).is_success
    assert _count(db, tables.LoginFailure) == 0


def test_logout_revokes_the_token(client: Any, world: World) -> None:
    headers = world.headers("project_user")
    assert client.post("/api/auth/logout", headers=headers).status_code == 204
    response = client.get("/api/me", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_tokens_are_listed_without_secret_and_revocable(client: Any, world: World) -> None:
    headers = world.headers("project_user")
    created = client.post("/api/tokens", json={"name": "ci"}, headers=headers).json()
    listed = client.get("/api/tokens", headers=headers).json()
    assert {t["name"] for t in listed} == {"test", "spare", "ci"}
    assert all("token" not in t for t in listed)
    ci = {"Authorization": f"Bearer {created['token']}"}
    assert client.get("/api/me", headers=ci).is_success
    assert client.delete(f"/api/tokens/{created['id']}", headers=headers).status_code == 204
    assert client.get("/api/me", headers=ci).status_code == 401


def test_browser_session_needs_the_csrf_header_to_write(client: Any, world: World) -> None:
    response = client.post("/api/auth/session", json={"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 200
    csrf = response.cookies["aichor_csrf"]
    assert response.json()["csrf_token"] == csrf
    assert "token" not in response.json()
    assert client.get("/api/me").json()["email"] == EMAIL
    refused = client.post("/api/tokens", json={"name": "x"})
    assert refused.status_code == 403
    assert "X-CSRF-Token" in refused.json()["detail"]["message"]
    wrong = client.post("/api/tokens", json={"name": "x"}, headers={"X-CSRF-Token": "0" * 64})
    assert wrong.status_code == 403
    allowed = client.post("/api/tokens", json={"name": "x"}, headers={"X-CSRF-Token": csrf})
    assert allowed.status_code == 201
    assert client.post("/api/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    client.cookies.clear()
    assert client.get("/api/me").status_code == 401


def test_a_session_cookie_is_not_a_bearer_token(client: Any, world: World) -> None:
    client.post("/api/auth/session", json={"email": EMAIL, "password": PASSWORD})
    session_token = client.cookies["aichor_session"]
    client.cookies.clear()
    response = client.get("/api/me", headers={"Authorization": f"Bearer {session_token}"})
    assert response.status_code == 401


def test_validation_errors_name_the_field(client: Any, world: World) -> None:
    response = client.post("/api/projects", json={"name": ""}, headers=world.headers("org_admin"))
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail["field"] == "name"
    assert detail["message"].startswith("name: ")


def test_unknown_routes_use_the_error_shape(client: Any) -> None:
    response = client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"detail": {"message": "Not Found", "field": None}}
