"""Projects (engines with a default, members) and engines (capacity, conflicts)."""

from __future__ import annotations

from typing import Any

from tests.api.world import World


def test_a_project_gets_engines_and_a_default(client: Any, world: World) -> None:
    admin = world.headers("org_admin")
    engine = world.ids["engine"]
    created = client.post(
        "/api/projects",
        json={
            "name": "vision",
            "repository_url": "https://git.example/v.git",
            "engine_ids": [engine],
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    assert created.json()["default_engine_id"] == engine
    by_name = client.get("/api/projects/vision", headers=admin)
    assert by_name.json()["id"] == created.json()["id"]


def test_duplicate_names_conflict_and_foreign_engines_are_refused(
    client: Any, world: World
) -> None:
    admin = world.headers("org_admin")
    assert client.post("/api/projects", json={"name": "p-a"}, headers=admin).status_code == 409
    foreign = client.post(
        "/api/projects", json={"name": "x", "engine_ids": ["missing"]}, headers=admin
    )
    assert foreign.status_code == 400
    assert foreign.json()["detail"]["field"] == "engine_ids.0"
    names = [p["name"] for p in client.get("/api/projects", headers=admin).json()]
    assert names == ["p-a"]  # nothing half-written


def test_members_decide_what_users_see(client: Any, world: World) -> None:
    other, admin = world.headers("other_user"), world.headers("org_admin")
    assert client.get("/api/projects", headers=other).json() == []
    url = f"/api/projects/{world.ids['project']}/members/{world.ids['other_user']}"
    assert client.put(url, headers=admin).is_success
    assert [p["name"] for p in client.get("/api/projects", headers=other).json()] == ["p-a"]
    assert client.delete(url, headers=admin).is_success
    assert client.get(f"/api/projects/{world.ids['project']}", headers=other).status_code == 404


def test_engines_capacity_and_conflicts(client: Any, world: World) -> None:
    infra = world.headers("infra_admin")
    created = client.post(
        "/api/engines",
        json={"name": "gpu-box", "cpus": 32, "memory_gib": 256, "gpus": {"H100": 8}},
        headers=infra,
    )
    assert created.status_code == 201
    assert created.json()["gpus"] == {"H100": 8}
    duplicate = client.post(
        "/api/engines", json={"name": "gpu-box", "cpus": 1, "memory_gib": 1}, headers=infra
    )
    assert duplicate.status_code == 409
    too_small = client.post(
        "/api/engines", json={"name": "zero", "cpus": 0, "memory_gib": 1}, headers=infra
    )
    assert too_small.status_code == 422
    assert too_small.json()["detail"]["field"] == "cpus"
    used = client.delete(f"/api/engines/{world.ids['engine']}", headers=infra)
    assert used.status_code == 409  # the world's experiment ran on it
    assert client.delete("/api/engines/gpu-box", headers=infra).status_code == 204


def test_the_last_organisation_admin_keeps_the_role(client: Any, world: World) -> None:
    admin = world.headers("org_admin")
    me = client.get("/api/me", headers=admin).json()
    response = client.put(f"/api/users/{me['id']}/roles", json={"roles": ["User"]}, headers=admin)
    assert response.status_code == 409
