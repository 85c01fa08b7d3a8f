"""Concurrency: two `aichor worker` processes on one PostgreSQL database share 200 queued
experiments; each runs exactly once (every run appends a line to its own marker file)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import AICHOR
from tests.pipeline.conftest import tar_of, write_repo
from tests.pipeline.servers import running_server

COUNT = int(os.environ.get("AICHOR_TEST_CONCURRENCY_COUNT", "200"))
MARK = """\
import os, sys
with open(os.path.join(sys.argv[1], os.environ["AICHOR_EXPERIMENT_ID"]), "a") as marker:
    marker.write("ran\\n")
"""


@pytest.mark.slow
def test_two_workers_run_each_experiment_once(tmp_path: Path) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    repo = tmp_path / "repo"
    write_repo(repo, command=f"python mark.py {markers}", cpus=0.25, files={"mark.py": MARK})
    archive = tar_of(repo)
    with running_server("postgresql", tmp_path / "home", workers=0) as (server, client):
        ids = []
        for _ in range(COUNT):
            response = client.post(
                "/api/projects/default/experiments",
                data={"manifest_path": "aichor/manifest.yaml"},
                files={"archive": ("source.tar.gz", archive, "application/gzip")},
            )
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
        workers = []
        for n in range(2):
            with (tmp_path / f"worker{n}.log").open("wb") as log:
                workers.append(
                    subprocess.Popen(
                        [str(AICHOR), "worker"],
                        env={**server.env, "AICHOR_WORKERS": "2"},
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
        try:
            _wait_all_done(client, len(ids))
        finally:
            for worker in workers:
                worker.terminate()
            for worker in workers:
                worker.wait(60)
        items = _all_items(client)
        assert {e["status"] for e in items} == {"Succeeded"}
        assert sorted(p.name for p in markers.iterdir()) == sorted(ids)
        assert all(p.read_text() == "ran\n" for p in markers.iterdir())


def _all_items(client) -> list[dict]:  # type: ignore[no-untyped-def, type-arg]
    items: list[dict] = []  # type: ignore[type-arg]
    cursor = None
    while True:
        params = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/projects/default/experiments", params=params).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def _wait_all_done(client, count: int, timeout: float = 480) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        items = _all_items(client)
        ended = [e for e in items if e["status"] in {"Succeeded", "Failed", "Cancelled"}]
        if len(ended) == count:
            return
        time.sleep(1)
    raise AssertionError("the workers did not finish every experiment")
