"""The server end to end through its API, on SQLite and PostgreSQL: a real git repository
submitted by commit and by archive passes every step; logs and steps are read back; cancel,
resubmit and the bad inputs each end with a clear answer."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from httpx import Client

from tests.pipeline.conftest import tar_of, write_repo
from tests.pipeline.servers import all_logs, running_server, wait_for

MANIFEST = "aichor/manifest.yaml"


@pytest.fixture(params=["sqlite", "postgresql"])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Client]:
    with running_server(request.param, tmp_path / "home") as (_server, test_client):
        yield test_client


def _submit_archive(client: Client, data: bytes) -> dict:  # type: ignore[type-arg]
    files = {"archive": ("source.tar.gz", data, "application/gzip")}
    response = client.post(
        "/api/projects/default/experiments",
        data={"manifest_path": MANIFEST, "message": "local"},
        files=files,
    )
    return {"status_code": response.status_code, **response.json()}


def test_commit_and_archive_pass_every_step(client: Client, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    sha = write_repo(repo, command="python -c \"print('line one'); print('line two')\"")
    patched = client.patch("/api/projects/default", json={"repository_url": repo.as_uri()})
    assert patched.status_code == 200, patched.text
    by_commit = client.post(
        "/api/projects/default/experiments",
        json={"commit_sha": sha, "branch": "main", "manifest_path": MANIFEST, "message": "c"},
    )
    assert by_commit.status_code == 201, by_commit.text
    by_archive = _submit_archive(client, tar_of(repo))
    assert by_archive["status_code"] == 201, by_archive
    for experiment_id in (by_commit.json()["id"], by_archive["id"]):
        done = wait_for(client, experiment_id)
        assert done["status"] == "Succeeded", done
        assert [s["status"] for s in done["steps"]] == ["Succeeded"] * 6
        lines = [t for t in all_logs(client, experiment_id) if t.startswith("line")]
        assert lines == ["line one", "line two"]
        assert all_logs(client, experiment_id, "Building")
        assert all_logs(client, experiment_id, "Cloning")
    listed = client.get("/api/projects/default/experiments", params={"limit": 1}).json()
    assert len(listed["items"]) == 1 and listed["next_cursor"]
    rest = client.get(
        "/api/projects/default/experiments", params={"cursor": listed["next_cursor"]}
    ).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    again = client.post(f"/api/experiments/{by_commit.json()['id']}/resubmit")
    assert again.status_code == 201 and again.json()["resubmitted_from"] == by_commit.json()["id"]
    assert wait_for(client, again.json()["id"])["status"] == "Succeeded"


def test_cancel_while_running(client: Client, tmp_path: Path) -> None:
    write_repo(
        tmp_path / "repo",
        command="python -c \"print('started', flush=True); import time; time.sleep(60)\"",
    )
    submitted = _submit_archive(client, tar_of(tmp_path / "repo"))
    experiment_id = submitted["id"]
    wait_for(client, experiment_id, lambda e: "started" in all_logs(client, e["id"]))
    cancelled = client.post(f"/api/experiments/{experiment_id}/cancel")
    assert cancelled.status_code == 200
    done = wait_for(client, experiment_id)
    assert done["status"] == "Cancelled"
    running = next(s for s in done["steps"] if s["step"] == "Running")
    assert running["status"] == "Cancelled"
    assert client.post(f"/api/experiments/{experiment_id}/cancel").status_code == 409


def _evil_tar(kind: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo(
            {"dotdot": "../escape.txt", "absolute": "/tmp/escape.txt"}.get(kind, "link")
        )
        if kind == "symlink":
            info.type, info.linkname = tarfile.SYMTYPE, "../../etc"
            tar.addfile(info)
        else:
            info.size = 1
            tar.addfile(info, io.BytesIO(b"x"))
    return buffer.getvalue()


@pytest.mark.parametrize("kind", ["dotdot", "absolute", "symlink"])
def test_escaping_archives_rejected(client: Client, kind: str) -> None:
    answer = _submit_archive(client, _evil_tar(kind))
    assert answer["status_code"] == 400, answer
    assert (
        "outside the tree" in answer["detail"]["message"]
        or "leaves the tree" in answer["detail"]["message"]
    )
    assert client.get("/api/projects/default/experiments").json()["items"] == []


def test_engine_too_small_and_missing_manifest(client: Client, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write_repo(repo, count=500, cpus=4)
    answer = _submit_archive(client, tar_of(repo))
    assert answer["status_code"] == 400
    assert "too small" in answer["detail"]["message"] and "2000 CPUs" in answer["detail"]["message"]
    sha = write_repo(repo)
    client.patch("/api/projects/default", json={"repository_url": str(repo)})
    submitted = client.post(
        "/api/projects/default/experiments",
        json={"commit_sha": sha, "manifest_path": "missing.yaml"},
    ).json()
    done = wait_for(client, submitted["id"])
    assert done["status"] == "Failed"
    cloning = next(s for s in done["steps"] if s["step"] == "Cloning")
    assert cloning["status"] == "Failed" and "missing.yaml" in cloning["message"]
