"""Archive submissions through the API: the answer, and the order problems are reported in."""

from __future__ import annotations

import io
import tarfile
from typing import Any

from fastapi.testclient import TestClient

from tests.api.world import World

MANIFEST = """\
kind: AIchorManifest
apiVersion: 0.2.3
builder: {image: t, dockerfile: ./Dockerfile, context: .}
spec:
  operator: jobset
  image: t
  command: "python -c 'print(1)'"
  types:
    worker: {count: 2, resources: {cpus: 1.5, ramRatio: 2}}
"""


def _archive(manifest: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in (("manifest.yaml", manifest), ("Dockerfile", "FROM python:3.11\n")):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _submit(client: TestClient, world: World, headers: dict[str, str], **form: Any) -> Any:
    field = "other" if form.pop("without_archive", False) else "archive"
    return client.post(
        f"/api/projects/{world.ids['project']}/experiments",
        data={"manifest_path": "manifest.yaml", **form},
        files={field: ("a.tar.gz", form.pop("archive"), "application/gzip")},
        headers=headers,
    )


def test_the_answer_is_the_experiment_as_a_later_read_sees_it(
    client: TestClient, world: World
) -> None:
    headers = world.headers("project_user")
    response = _submit(client, world, headers, archive=_archive(MANIFEST), message="first")
    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["status"] == "Created" and answer["current_step"] == "Waiting"
    assert [(s["step"], s["status"]) for s in answer["steps"]] == [
        ("Waiting", "Running"),
        ("Cloning", "Initialize"),
        ("Building", "Initialize"),
        ("Submitting", "Initialize"),
        ("Running", "Initialize"),
        ("Completed", "Initialize"),
    ]
    assert answer["requested"]["cpus"] == 3.0
    assert answer["message"] == "first" and answer["user_email"] == "project_user@a.test"
    read = client.get(f"/api/experiments/{answer['id']}", headers=headers)
    assert read.json() == answer
    events = client.get("/api/audit", headers=world.headers("org_admin")).json()
    assert any(e["action"] == "experiment.submit" and e["target"] == answer["id"] for e in events)


def test_the_same_manifest_twice_makes_two_experiments_alike(
    client: TestClient, world: World
) -> None:
    headers = world.headers("project_user")
    first, second = (
        _submit(client, world, headers, archive=_archive(MANIFEST)).json() for _ in range(2)
    )
    assert first["id"] != second["id"]
    assert first["requested"] == second["requested"] == {"cpus": 3.0, "memory_gib": 6.0, "gpus": 0}
    assert first["operator"] == second["operator"] == "jobset"


def test_credentials_are_checked_before_the_form(client: TestClient, world: World) -> None:
    for headers in ({}, {"Authorization": "Bearer aichor_not-a-token"}):
        response = _submit(client, world, headers, archive=b"", without_archive=True)
        assert response.status_code == 401, response.text
    response = _submit(
        client, world, world.headers("project_user"), archive=b"", without_archive=True
    )
    assert response.status_code == 400
    assert response.json()["detail"]["field"] == "archive"


def test_a_body_neither_json_nor_multipart_is_refused(client: TestClient, world: World) -> None:
    response = client.post(
        f"/api/projects/{world.ids['project']}/experiments",
        content=b"commit_sha=abc",
        headers={**world.headers("project_user"), "Content-Type": "text/plain"},
    )
    assert response.status_code == 400
    assert response.json()["detail"]["field"] == "body"


def test_an_invalid_manifest_is_refused_the_same_way_each_time(
    client: TestClient, world: World
) -> None:
    headers = world.headers("project_user")
    broken = _archive(MANIFEST.replace("count: 2", "count: two"))
    before = client.get(f"/api/projects/{world.ids['project']}/experiments", headers=headers)
    answers = [_submit(client, world, headers, archive=broken) for _ in range(2)]
    assert [a.status_code for a in answers] == [400, 400]
    assert answers[0].json() == answers[1].json()
    assert "count" in answers[0].json()["detail"]["message"]
    after = client.get(f"/api/projects/{world.ids['project']}/experiments", headers=headers)
    assert len(after.json()["items"]) == len(before.json()["items"])
