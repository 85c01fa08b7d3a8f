"""Usage and cost with organisation prices, the CSV export, and the audit log."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest

from aichor.db import tables
from tests.api.world import World

PRICES = {"cpu_hour": 0.5, "memory_gib_hour": 0.25, "gpu_hour": {"A100": 3.0}}
COST = 2 * 0.5 + 4 * 0.25 + 1 * 3.0  # the world's experiment: 1 hour, 2 CPUs, 4 GiB, 1 A100


def test_prices_then_cost_by_project(client: Any, world: World) -> None:
    headers = world.headers("finops_admin")
    assert client.put("/api/organisation/prices", json=PRICES, headers=headers).is_success
    assert client.get("/api/organisation/prices", headers=headers).json() == PRICES
    report = client.get("/api/usage", headers=headers).json()
    assert report["group_by"] == "project"
    [row] = report["rows"]
    assert row["key"] == world.ids["project"]
    assert row["name"] == "p-a"
    assert row["experiments"] == 1
    assert row["cpu_hours"] == pytest.approx(2)
    assert row["memory_gib_hours"] == pytest.approx(4)
    assert row["gpu_hours"] == {"A100": pytest.approx(1)}
    assert row["cost"] == pytest.approx(COST)
    assert report["total_cost"] == pytest.approx(COST)


@pytest.mark.parametrize(
    ("group_by", "name"),
    [("user", "project_user@a.test"), ("engine", "e-a"), ("organisation", "org-a")],
)
def test_grouping(client: Any, world: World, group_by: str, name: str) -> None:
    headers = world.headers("org_admin")
    report = client.get("/api/usage", params={"group_by": group_by}, headers=headers).json()
    assert [r["name"] for r in report["rows"]] == [name]


def test_a_period_counts_usage_pro_rata(client: Any, world: World) -> None:
    headers = world.headers("org_admin")
    client.put("/api/organisation/prices", json=PRICES, headers=headers)
    now = tables.utcnow()
    half = {"start": (now - timedelta(minutes=30)).isoformat(), "end": now.isoformat()}
    report = client.get("/api/usage", params=half, headers=headers).json()
    assert report["rows"][0]["cpu_hours"] == pytest.approx(1, rel=1e-3)
    later = {
        "start": (now + timedelta(days=1)).isoformat(),
        "end": (now + timedelta(days=2)).isoformat(),
    }
    assert client.get("/api/usage", params=later, headers=headers).json()["rows"] == []
    backwards = {"start": half["end"], "end": half["start"]}
    response = client.get("/api/usage", params=backwards, headers=headers)
    assert response.status_code == 400
    assert response.json()["detail"]["field"] == "start"


def test_csv_export(client: Any, world: World) -> None:
    headers = world.headers("finops_admin")
    client.put("/api/organisation/prices", json=PRICES, headers=headers)
    response = client.get("/api/usage", params={"format": "csv"}, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 1
    assert rows[0]["project"] == world.ids["project"]
    assert float(rows[0]["gpu_hours[A100]"]) == pytest.approx(1)
    assert float(rows[0]["cost"]) == pytest.approx(COST)


def test_the_audit_log_says_who_did_what_newest_first(client: Any, world: World) -> None:
    admin = world.headers("org_admin")
    client.post("/api/projects", json={"name": "p-audit"}, headers=admin)
    client.put(
        f"/api/users/{world.ids['other_user']}/roles", json={"roles": ["User"]}, headers=admin
    )
    events = client.get("/api/audit", headers=admin).json()
    assert [e["action"] for e in events[:2]] == ["user.roles", "project.create"]
    assert events[1]["user_email"] == "org_admin@a.test"
    assert events[1]["detail"] == {"name": "p-audit"}
    outsider = client.get("/api/audit", headers=world.headers("outsider")).json()
    assert all(
        e["action"] != "project.create" or e["detail"] != {"name": "p-audit"} for e in outsider
    )
