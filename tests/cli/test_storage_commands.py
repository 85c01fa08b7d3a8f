"""`aichor storage` against a real `aichor server` and its embedded S3 endpoints: files go up
and come back byte for byte, objects are listed with their URI and removed, bad paths end in one
line; an issued key works with boto3 on the project's endpoint, another project's is refused."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.client.live_server import LiveServer, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    for live in start_server(tmp_path_factory.mktemp("storage-server")):
        live.login()
        yield live


def ok(server: LiveServer, *args: str) -> str:
    result = server.cli(*args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def one_line_error(server: LiveServer, *args: str) -> str:
    result = server.cli(*args)
    assert result.returncode == 1, result.stdout
    assert result.stderr.startswith("aichor: error: ") and result.stderr.count("\n") == 1
    return result.stderr


def test_cp_ls_uri_rm_round_trip(server: LiveServer, tmp_path: Path) -> None:
    local = tmp_path / "train.csv"
    local.write_bytes(b"x,y\n" + b"1,2\n" * 50_000)
    assert ok(server, "storage", "cp", str(local), "input:data/").strip() == (
        "s3://default-input/data/train.csv"
    )
    listed = json.loads(ok(server, "storage", "ls", "input:data/", "--json"))
    assert [(o["key"], o["size"]) for o in listed] == [("data/train.csv", local.stat().st_size)]
    assert "s3://default-input/data/train.csv" in ok(server, "storage", "ls")
    assert ok(server, "storage", "uri", "input:data/train.csv").strip() == (
        "s3://default-input/data/train.csv"
    )
    back = tmp_path / "back"
    back.mkdir()
    ok(server, "storage", "cp", "s3://default-input/data/train.csv", str(back))
    assert (back / "train.csv").read_bytes() == local.read_bytes()
    ok(server, "storage", "rm", "input:data/train.csv")
    assert json.loads(ok(server, "storage", "ls", "--json")) == []
    assert "not found" in one_line_error(server, "storage", "cp", "input:data/train.csv", str(back))


def test_bad_paths_are_one_line(server: LiveServer, tmp_path: Path) -> None:
    local = tmp_path / "f.txt"
    local.write_text("x")
    error = one_line_error(server, "storage", "cp", str(local), "input:../outside.txt")
    assert "'../outside.txt'" in error and "traversal" in error
    assert "'a\\\\b.txt'" in one_line_error(server, "storage", "cp", str(local), "input:a\\b.txt")
    assert "exactly one side" in one_line_error(server, "storage", "cp", str(local), str(tmp_path))
    assert "not a bucket path" in one_line_error(server, "storage", "rm", "data/x")
    assert "scratch" in one_line_error(server, "storage", "ls", "s3://scratch/")
    assert not list(server.home.rglob("outside.txt"))


def _s3(endpoint: str, key_id: str, secret: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        region_name="us-east-1",
    )


def _eventually(call: Any, timeout: float = 10.0) -> Any:
    """The endpoint restarts with a new key within the supervisor's poll (1 s)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except ClientError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_issued_key_works_and_another_projects_key_is_refused(
    server: LiveServer, tmp_path: Path
) -> None:
    ok(server, "projects", "create", "other")
    mine = json.loads(ok(server, "storage", "keys", "--new", "--json"))
    theirs = json.loads(ok(server, "storage", "keys", "--new", "--json", "-p", "other"))
    assert "secret_access_key" not in json.loads(ok(server, "storage", "keys", "--json"))
    local = tmp_path / "hello.txt"
    local.write_text("hello")
    ok(server, "storage", "cp", str(local), "input:hello.txt")
    endpoint = (
        mine["endpoint_url"] or json.loads(ok(server, "storage", "keys", "--json"))["endpoint_url"]
    )
    client = _s3(endpoint, mine["access_key_id"], mine["secret_access_key"])
    body = _eventually(lambda: client.get_object(Bucket="default-input", Key="hello.txt"))
    assert body["Body"].read() == b"hello"
    stranger = _s3(endpoint, theirs["access_key_id"], theirs["secret_access_key"])
    with pytest.raises(ClientError) as refused:
        stranger.get_object(Bucket="default-input", Key="hello.txt")
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    other_endpoint = _eventually_endpoint(server, "other")
    assert other_endpoint != endpoint
    with pytest.raises(ClientError) as crossed:
        _s3(other_endpoint, mine["access_key_id"], mine["secret_access_key"]).list_objects_v2(
            Bucket="other-input"
        )
    assert crossed.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    rotated = json.loads(ok(server, "storage", "keys", "--new", "--json"))
    fresh = _s3(endpoint, rotated["access_key_id"], rotated["secret_access_key"])
    _eventually(lambda: fresh.head_object(Bucket="default-input", Key="hello.txt"))
    with pytest.raises(ClientError):
        client.get_object(Bucket="default-input", Key="hello.txt")


def _eventually_endpoint(server: LiveServer, project: str) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        url = json.loads(ok(server, "storage", "keys", "--json", "-p", project))["endpoint_url"]
        if url:
            return str(url)
        time.sleep(0.2)
    raise AssertionError(f"no endpoint for {project}")


def test_upload_reaches_the_disk_while_the_body_is_still_arriving(server: LiveServer) -> None:
    """The server writes each chunk as it comes (a large file is never held in memory): midway
    through the request the partial upload is already on disk."""
    import httpx

    from tests.client.live_server import ADMIN_EMAIL, ADMIN_PASSWORD

    token = httpx.post(
        f"{server.url}/api/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    ).json()["token"]
    uploads = server.home / "buckets" / ".uploads"
    seen_midway: list[int] = []

    def body() -> Iterator[bytes]:
        for index in range(16):
            if index == 8:
                deadline = time.monotonic() + 10
                while not (sizes := [p.stat().st_size for p in uploads.glob("upload-*")]) or max(
                    sizes
                ) < (4 << 20):
                    assert time.monotonic() < deadline, sizes
                    time.sleep(0.05)
                seen_midway.append(max(sizes))
            yield b"\0" * (1 << 20)

    response = httpx.put(
        f"{server.url}/api/projects/default/storage/objects/output/big.bin",
        content=body(),
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    assert response.status_code == 201, response.text
    assert response.json()["size"] == 16 << 20
    assert seen_midway and seen_midway[0] >= 4 << 20
    assert list(uploads.glob("upload-*")) == []
    ok(server, "storage", "rm", "output:big.bin")
