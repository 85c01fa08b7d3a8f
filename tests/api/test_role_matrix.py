"""Tenancy and roles for every route of the OpenAPI schema.

`RIGHTS` says who may call each (method, path). The test is generated from `app.openapi()`:
a route missing from the table fails `test_every_route_has_rights`, so a new router cannot
slip in unchecked. For each route and persona the status must be exactly the expected one:
allowed (anything but 401/403/404), 401 anonymous, 403 wrong role, 404 outside the
organisation or outside the project. The outsider (an admin of another organisation) must
also never see an id of organisation A that it did not send.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import delete

from aichor.app import create_app
from aichor.db import tables
from aichor.db.session import Engine, session
from aichor.settings import Settings
from tests.api.conftest import TestClient
from tests.api.world import OBJECT_KEY, PASSWORD, World, build_world

PUBLIC, MEMBER, PROJECT, PROJECT_ADMIN = "public", "member", "project", "project_admin"
SIGNED = "signed"
"""Authenticated by the project's webhook secret, never by a user: 401 for every persona."""
ORG_ADMIN, INFRA, FINOPS = "org_admin", "infra", "finops"


@dataclass(frozen=True)
class Rights:
    rule: str
    body: dict[str, Any] | None = None
    query: dict[str, str] = field(default_factory=dict)


LOGIN = {"email": "project_user@a.test", "password": PASSWORD}
RIGHTS: dict[tuple[str, str], Rights] = {
    ("POST", "/api/auth/login"): Rights(PUBLIC, LOGIN),
    ("POST", "/api/auth/session"): Rights(PUBLIC, LOGIN),
    ("POST", "/api/auth/logout"): Rights(MEMBER),
    ("GET", "/api/me"): Rights(MEMBER),
    ("GET", "/api/tokens"): Rights(MEMBER),
    ("POST", "/api/tokens"): Rights(MEMBER, {"name": "ci"}),
    ("DELETE", "/api/tokens/{token_id}"): Rights(MEMBER),
    ("POST", "/api/invitations/accept"): Rights(
        PUBLIC, {"token": "<invitation>", "password": PASSWORD}
    ),
    ("GET", "/api/invitations"): Rights(ORG_ADMIN),
    ("POST", "/api/invitations"): Rights(ORG_ADMIN, {"email": "new@a.test", "roles": ["User"]}),
    ("GET", "/api/users"): Rights(ORG_ADMIN),
    ("PUT", "/api/users/{user_id}/roles"): Rights(ORG_ADMIN, {"roles": ["User", "FinOpsAdmin"]}),
    ("GET", "/api/projects"): Rights(MEMBER),
    ("POST", "/api/projects"): Rights(ORG_ADMIN, {"name": "p-new"}),
    ("GET", "/api/projects/{project}"): Rights(PROJECT),
    ("PATCH", "/api/projects/{project}"): Rights(PROJECT_ADMIN, {"repository_url": "https://x"}),
    ("DELETE", "/api/projects/{project}"): Rights(PROJECT_ADMIN),
    ("PUT", "/api/projects/{project}/members/{user_id}"): Rights(PROJECT_ADMIN),
    ("DELETE", "/api/projects/{project}/members/{user_id}"): Rights(PROJECT_ADMIN),
    ("GET", "/api/projects/{project}/variables"): Rights(PROJECT),
    ("POST", "/api/projects/{project}/variables"): Rights(PROJECT, {"name": "LR", "value": "0.1"}),
    ("DELETE", "/api/projects/{project}/variables/{variable_id}"): Rights(PROJECT),
    ("GET", "/api/engines"): Rights(MEMBER),
    ("POST", "/api/engines"): Rights(INFRA, {"name": "e-new", "cpus": 1, "memory_gib": 1}),
    ("GET", "/api/engines/{engine}"): Rights(MEMBER),
    ("PATCH", "/api/engines/{engine}"): Rights(INFRA, {"cpus": 8}),
    ("DELETE", "/api/engines/{engine}"): Rights(INFRA),
    ("GET", "/api/usage"): Rights(FINOPS),
    ("GET", "/api/organisation/prices"): Rights(FINOPS),
    ("PUT", "/api/organisation/prices"): Rights(FINOPS, {"cpu_hour": 0.1}),
    ("GET", "/api/audit"): Rights(ORG_ADMIN),
    # Experiments (api/experiments.py).
    ("POST", "/api/projects/{project}/experiments"): Rights(
        PROJECT, {"commit_sha": "1" * 40, "branch": "main", "manifest_path": "manifest.yaml"}
    ),
    ("GET", "/api/projects/{project}/experiments"): Rights(PROJECT),
    ("GET", "/api/experiments/{experiment_id}"): Rights(PROJECT),
    ("POST", "/api/experiments/{experiment_id}/cancel"): Rights(PROJECT),
    ("POST", "/api/experiments/{experiment_id}/resubmit"): Rights(PROJECT),
    ("GET", "/api/experiments/{experiment_id}/logs"): Rights(PROJECT),
    ("GET", "/api/experiments/{experiment_id}/metrics"): Rights(PROJECT),
    ("GET", "/api/experiments/{experiment_id}/replicas"): Rights(PROJECT),
    # Webhooks (api/webhooks.py).
    ("POST", "/api/webhooks/{provider}/{project_id}"): Rights(SIGNED, {"ref": "refs/heads/x"}),
    ("GET", "/api/projects/{project}/webhook"): Rights(PROJECT_ADMIN),
    ("POST", "/api/projects/{project}/webhook/rotate"): Rights(PROJECT_ADMIN),
    # Storage (api/storage.py).
    ("GET", "/api/projects/{project}/storage"): Rights(PROJECT),
    ("POST", "/api/projects/{project}/storage/keys"): Rights(PROJECT),
    ("GET", "/api/projects/{project}/storage/objects/{bucket}"): Rights(PROJECT),
    ("GET", "/api/projects/{project}/storage/objects/{bucket}/{key}"): Rights(PROJECT),
    ("PUT", "/api/projects/{project}/storage/objects/{bucket}/{key}"): Rights(
        PROJECT, {"any": "json body"}
    ),
    ("DELETE", "/api/projects/{project}/storage/objects/{bucket}/{key}"): Rights(PROJECT),
    # A stream of a running experiment never ends: an offset past the (empty) log makes the
    # allowed personas get a 400 once access was granted, and the others their 403/404.
    ("GET", "/api/experiments/{experiment_id}/logs/stream"): Rights(PROJECT, query={"after": "7"}),
    ("GET", "/api/experiments/{experiment_id}/logs/download"): Rights(PROJECT),
    ("GET", "/api/organisation/log-retention"): Rights(MEMBER),
    ("PUT", "/api/organisation/log-retention"): Rights(ORG_ADMIN, {"days": 7}),
}

PERSONAS = (
    "anonymous",
    "outsider",
    "project_user",
    "other_user",
    "org_admin",
    "infra_admin",
    "finops_admin",
)
ALLOWED: dict[str, set[str]] = {
    PUBLIC: set(PERSONAS),
    MEMBER: set(PERSONAS) - {"anonymous"},
    PROJECT: {"project_user", "org_admin"},
    PROJECT_ADMIN: {"org_admin"},
    ORG_ADMIN: {"org_admin", "outsider"},
    INFRA: {"org_admin", "infra_admin", "outsider"},
    FINOPS: {"org_admin", "finops_admin", "outsider"},
}
"""Who succeeds. The outsider acts in its own organisation, so it passes role checks on routes
that name nothing of organisation A; routes that do name something answer it 404."""


def _routes() -> list[tuple[str, str]]:
    app = create_app(Settings(home="/nonexistent-aichor-home", workers=0))  # type: ignore[arg-type,unused-ignore]
    return sorted(
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    )


ROUTES = _routes()


def test_every_route_has_rights() -> None:
    missing = [route for route in ROUTES if route not in RIGHTS]
    stale = [route for route in RIGHTS if route not in ROUTES]
    assert missing == [], f"add these routes to RIGHTS: {missing}"
    assert stale == [], f"these routes no longer exist: {stale}"


def expected(rights: Rights, path: str, persona: str) -> int | None:
    """None when the call must succeed, else the exact status."""
    if rights.rule == SIGNED:
        return 401
    if persona == "anonymous":
        return None if rights.rule == PUBLIC else 401
    if persona == "outsider" and "{" in path:
        return 404
    if persona in ALLOWED[rights.rule]:
        return None
    if rights.rule in (PROJECT, PROJECT_ADMIN):
        return 403 if persona == "project_user" else 404
    return 403


def _url(path: str, persona: str, world: World) -> str:
    values = {
        "project": world.ids["project"],
        "engine": world.ids["engine"],
        "user_id": world.ids["other_user"],
        "variable_id": world.ids["variable"],
        "experiment_id": world.ids["experiment"],
        "project_id": world.ids["project"],
        "provider": "github",
        "bucket": "input",
        "key": OBJECT_KEY,
        "token_id": world.spare_token_id[
            "project_user" if persona in ("outsider", "anonymous") else persona
        ],
    }
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)


_read_worlds: dict[str, World] = {}


def _world_for(method: str, engine: Engine, settings: Settings) -> World:
    """A fresh world for a write; for a read, the last read's world while it still exists
    (reads change nothing that matters here, and building a world is most of the cost)."""
    key = str(engine.url)
    with session(engine) as db:
        cached = _read_worlds.get(key)
        if method == "GET" and cached and db.get(tables.Organisation, cached.ids["organisation"]):
            return cached
        for table in reversed(tables.Base.metadata.sorted_tables):
            db.execute(delete(table))
        world = build_world(db, settings)
    _read_worlds[key] = world
    return world


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_route_answers_each_persona(
    app: FastAPI,
    db_engine: Engine,
    app_settings: Settings,
    method: str,
    path: str,
    persona: str,
) -> None:
    rights = RIGHTS.get((method, path))
    if rights is None:
        pytest.fail(f"{method} {path} is missing from RIGHTS")
    world = _world_for(method, db_engine, app_settings)
    client = TestClient(app)
    body = rights.body
    if body and body.get("token") == "<invitation>":
        body = {**body, "token": world.invitation_token}
    url = _url(path, persona, world)
    response = client.request(
        method, url, json=body, params=rights.query, headers=world.headers(persona)
    )
    want = expected(rights, path, persona)
    if want is None:
        assert response.status_code not in (401, 403, 404), response.text
        assert response.status_code < 500, response.text
    else:
        assert response.status_code == want, response.text
        assert set(response.json()["detail"]) == {"message", "field"}
    if persona == "outsider" and rights.rule not in (PUBLIC, SIGNED):
        _assert_no_leak(world, response.text, url + json.dumps(body))


def _assert_no_leak(world: World, text: str, sent: str) -> None:
    for name, value in world.ids.items():
        if value not in sent:
            assert value not in text, f"the outsider saw organisation A's {name}"
