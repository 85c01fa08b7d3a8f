"""Project storage through the API, on SQLite and PostgreSQL: objects go up (streamed), are
listed with their `s3://` URI, come down intact and are deleted; keys that would leave the
bucket are refused naming the key, and nothing lands outside it; members' keys are shown once."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from typing import Any

import pytest

from aichor.settings import Settings
from tests.api.world import OBJECT_KEY, World


def _base(world: World) -> str:
    return f"/api/projects/{world.ids['project']}/storage"


def test_upload_list_download_delete(client: Any, world: World) -> None:
    headers = world.headers("project_user")
    base = _base(world)
    put = client.put(
        f"{base}/objects/output/run 1/metrics.json", content=b'{"loss": 0.1}', headers=headers
    )
    assert put.status_code == 201, put.text
    assert put.json()["uri"] == "s3://p-a-output/run 1/metrics.json"
    assert put.json()["size"] == len(b'{"loss": 0.1}')
    listed = client.get(f"{base}/objects/output", params={"prefix": "run"}, headers=headers)
    assert [o["key"] for o in listed.json()] == ["run 1/metrics.json"]
    assert (
        client.get(f"{base}/objects/output", params={"prefix": "x"}, headers=headers).json() == []
    )
    got = client.get(f"{base}/objects/p-a-output/run 1/metrics.json", headers=headers)
    assert got.status_code == 200 and got.content == b'{"loss": 0.1}'
    assert (
        client.delete(f"{base}/objects/output/run 1/metrics.json", headers=headers).status_code
        == 204
    )
    missing = client.get(f"{base}/objects/output/run 1/metrics.json", headers=headers)
    assert (
        missing.status_code == 404 and "run 1/metrics.json" in missing.json()["detail"]["message"]
    )
    assert client.get(f"{base}/objects/output", headers=headers).json() == []


def test_the_world_object_reads_back_from_the_input_bucket(client: Any, world: World) -> None:
    got = client.get(
        f"{_base(world)}/objects/input/{OBJECT_KEY}", headers=world.headers("org_admin")
    )
    assert got.content == b"a,b\n1,2\n"


def test_large_upload_streams_through_intact(client: Any, world: World) -> None:
    block = os.urandom(1 << 20)

    def body() -> Iterator[bytes]:
        for _ in range(12):
            yield block

    headers = world.headers("project_user")
    put = client.put(f"{_base(world)}/objects/input/big.bin", content=body(), headers=headers)
    assert put.status_code == 201, put.text
    assert put.json()["size"] == 12 << 20
    got = client.get(f"{_base(world)}/objects/input/big.bin", headers=headers)
    assert hashlib.sha256(got.content).digest() == hashlib.sha256(block * 12).digest()


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("%2E%2E/escape.txt", "../escape.txt"),
        ("data/%2e%2e/%2e%2e/escape.txt", "data/../../escape.txt"),
        ("/etc/escape.txt", "/etc/escape.txt"),
        ("a%5C..%5Cescape.txt", "a\\\\..\\\\escape.txt"),
        ("nul%00.txt", "nul\\x00.txt"),
    ],
)
def test_path_traversal_in_object_names_is_refused(
    client: Any, world: World, app_settings: Settings, raw: str, shown: str
) -> None:
    headers = world.headers("project_user")
    for method in ("PUT", "GET", "DELETE"):
        url = f"{_base(world)}/objects/input/{raw}"
        response = client.request(
            method, url, content=b"x" if method == "PUT" else None, headers=headers
        )
        assert response.status_code == 400, (method, response.text)
        detail = response.json()["detail"]
        assert detail["field"] == "key" and shown in detail["message"], detail
    assert not list(app_settings.home.rglob("escape.txt"))


def test_an_object_cannot_also_be_a_folder(client: Any, world: World) -> None:
    headers = world.headers("project_user")
    url = f"{_base(world)}/objects/input/{OBJECT_KEY}/inner.txt"
    response = client.put(url, content=b"x", headers=headers)
    assert response.status_code == 400, response.text
    assert OBJECT_KEY in response.json()["detail"]["message"]
    folder = client.put(f"{_base(world)}/objects/input/data", content=b"x", headers=headers)
    assert folder.status_code == 400 and "is a folder" in folder.json()["detail"]["message"]


def test_unknown_bucket_is_named(client: Any, world: World) -> None:
    response = client.get(f"{_base(world)}/objects/scratch", headers=world.headers("project_user"))
    assert response.status_code == 400
    assert "'scratch'" in response.json()["detail"]["message"]
    assert response.json()["detail"]["field"] == "bucket"


def test_members_key_is_shown_once_and_rotates(client: Any, world: World) -> None:
    headers = world.headers("project_user")
    before = client.get(_base(world), headers=headers).json()
    assert before["access_key_id"] is None
    assert [b["uri"] for b in before["buckets"]] == ["s3://p-a-input/", "s3://p-a-output/"]
    issued = client.post(f"{_base(world)}/keys", headers=headers)
    assert issued.status_code == 201
    first = issued.json()
    assert len(first["secret_access_key"]) == 40
    shown = client.get(_base(world), headers=headers)
    assert shown.json()["access_key_id"] == first["access_key_id"]
    assert first["secret_access_key"] not in shown.text
    second = client.post(f"{_base(world)}/keys", headers=headers).json()
    assert second["access_key_id"] != first["access_key_id"]
    assert (
        client.get(_base(world), headers=headers).json()["access_key_id"] == second["access_key_id"]
    )
