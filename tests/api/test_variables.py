"""Project variables: protected names refused (naming the field), sensitive values encrypted at
rest and never returned."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from aichor.db import tables
from aichor.db.session import Session
from aichor.services import variables
from aichor.settings import Settings
from tests.api.world import World


def _url(world: World) -> str:
    return f"/api/projects/{world.ids['project']}/variables"


@pytest.mark.parametrize("name", ["AICHOR_TOKEN", "MASTER_ADDR", "PET_NNODES", "RAY_ADDRESS"])
def test_protected_names_are_400_naming_the_field_and_write_nothing(
    client: Any, world: World, db: Session, name: str
) -> None:
    response = client.post(
        _url(world), json={"name": name, "value": "x"}, headers=world.headers("project_user")
    )
    assert response.status_code == 400
    assert response.json()["detail"]["field"] == "name"
    assert name in response.json()["detail"]["message"]
    db.expire_all()
    assert db.scalars(select(tables.Variable).where(tables.Variable.name == name)).all() == []


def test_names_must_be_identifiers(client: Any, world: World) -> None:
    response = client.post(
        _url(world), json={"name": "1-BAD", "value": "x"}, headers=world.headers("project_user")
    )
    assert response.status_code == 400
    assert response.json()["detail"]["field"] == "name"


def test_sensitive_values_are_encrypted_and_never_returned(
    client: Any, world: World, db: Session, app_settings: Settings
) -> None:
    headers = world.headers("project_user")
    body = {"name": "HF_TOKEN", "value": "hf_secret_value", "sensitive": True, "kind": "build"}
    created = client.post(_url(world), json=body, headers=headers)
    assert created.status_code == 201
    assert created.json()["value"] is None
    listed = client.get(_url(world), headers=headers)
    assert "hf_secret_value" not in listed.text
    assert {v["name"]: v["value"] for v in listed.json()} == {"HF_TOKEN": None, "SEED": "1"}
    db.expire_all()
    stored = db.scalars(select(tables.Variable).where(tables.Variable.name == "HF_TOKEN")).one()
    assert "hf_secret_value" not in stored.value
    clear = variables.values_for(
        db, project_id=world.ids["project"], kind="build", secret=app_settings.secret()
    )
    assert clear == {"HF_TOKEN": "hf_secret_value"}
    audit = client.get("/api/audit", headers=world.headers("org_admin"))
    assert "hf_secret_value" not in audit.text


def test_setting_again_replaces_and_delete_removes(client: Any, world: World) -> None:
    headers = world.headers("project_user")
    client.post(_url(world), json={"name": "SEED", "value": "2"}, headers=headers)
    assert [v["value"] for v in client.get(_url(world), headers=headers).json()] == ["2"]
    assert client.delete(f"{_url(world)}/{world.ids['variable']}", headers=headers).is_success
    assert client.get(_url(world), headers=headers).json() == []
