"""A real server (SQLite and PostgreSQL) runs a two-replica workload: worker 0 writes TensorBoard
scalars with tensorboardX (installed by its Dockerfile, with boto3: AICHOR_TENSORBOARD_PATH is an
`s3://` URI on the project's embedded S3 endpoint, reached through S3_ENDPOINT), holds 200 MB and
burns a core, then signals worker 1 through the shared volume; worker 1 fails with exit code 3.
Through the API: worker 0's samples show the CPU and memory (worker 1's do not), worker 1 is the
replica that failed first with its exit code and reason, and the scalar is read through the
proxied TensorBoard, started on demand after the run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.pipeline.servers import (
    Server,
    database_url,
    free_port,
    login,
    post_archive,
    server_env,
    wait_for,
)

MANIFEST = """\
kind: AIchorManifest
apiVersion: 0.2.3
builder: {image: tb, dockerfile: ./Dockerfile, context: .}
spec:
  operator: jobset
  image: tb
  command: python main.py
  tensorboard: {enabled: true}
  storage: {sharedVolume: {mountPoint: /mnt/shared, sizeGB: 1}}
  types:
    worker: {count: 2, resources: {cpus: 0.5, ramRatio: 1}}
"""
DOCKERFILE = "FROM python:3.11-slim\nWORKDIR /app\nRUN pip install tensorboardX boto3\nCOPY . .\n"
MAIN = """\
import os, pathlib, sys, time
ready = pathlib.Path("/mnt/shared/ready")
if os.environ["JOB_INDEX"] == "0":
    from tensorboardX import SummaryWriter
    writer = SummaryWriter(os.environ["AICHOR_TENSORBOARD_PATH"] + "train")
    for step, loss in enumerate([1.0, 0.5, 0.25]):
        writer.add_scalar("loss", loss, step)
    writer.close()
    block = bytearray(200 * 1024 * 1024)
    for i in range(0, len(block), 4096):
        block[i] = 1
    ready.touch()
    end = time.monotonic() + 120
    while time.monotonic() < end:
        pass
else:
    while not ready.exists():
        time.sleep(0.1)
    time.sleep(4)
    print("worker 1 gives up", flush=True)
    sys.exit(3)
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[httpx.Client]:
    home = tmp_path / "home"
    home.mkdir()
    with database_url(request.param, home) as url:
        env = server_env(home, url, free_port())
        env["AICHOR_METRICS_INTERVAL_SECONDS"] = "0.5"
        server = Server(env, home / "server.log").start()
        try:
            with httpx.Client(base_url=server.url, timeout=60) as test_client:
                login(test_client)
                yield test_client
        finally:
            server.stop()


def _submit(client: httpx.Client, repo: Path) -> str:
    (repo / "aichor").mkdir(parents=True)
    (repo / "aichor" / "manifest.yaml").write_text(MANIFEST)
    (repo / "Dockerfile").write_text(DOCKERFILE)
    (repo / "main.py").write_text(MAIN)
    return post_archive(client, repo)


@pytest.mark.slow
def test_metrics_failed_replica_and_tensorboard(client: httpx.Client, tmp_path: Path) -> None:
    experiment_id = _submit(client, tmp_path / "repo")
    done = wait_for(client, experiment_id, timeout=600)
    assert done["status"] == "Failed", done
    names = sorted(r["name"] for r in done["replicas"])
    assert len(names) == 2
    busy, failing = names  # `...-worker-0-0` and `...-worker-1-0`
    assert done["failed_replica"] == failing and done["exit_code"] == 3
    assert "exit code 3" in done["failure_reason"]
    assert done["tensorboard_url"] == f"/api/experiments/{experiment_id}/tensorboard/"

    replicas = client.get(f"/api/experiments/{experiment_id}/replicas").json()
    by_name: dict[str, Any] = {r["name"]: r for r in replicas["replicas"]}
    assert replicas["failed_replica"] == failing
    assert by_name[failing]["status"] == "Failed" and by_name[failing]["exit_code"] == 3
    assert by_name[failing]["reason"] == "exited with code 3"
    assert by_name[failing]["failed_first"] and not by_name[busy]["failed_first"]
    assert by_name[busy]["reason"].startswith("stopped")

    metrics = client.get(f"/api/experiments/{experiment_id}/metrics").json()
    series = {s["replica"]: s["points"] for s in metrics["series"]}
    assert max(p["memory_bytes"] for p in series[busy]) > 200 * 1024**2
    assert max(p["cpu"] for p in series[busy]) > 0.05  # a core at most, less on a busy machine
    assert max(p["memory_bytes"] for p in series[failing]) < 100 * 1024**2
    assert max(p["cpu"] for p in series[busy]) > max(p["cpu"] for p in series[failing]) + 0.05
    assert all(p["gpu_util"] is None for p in series[busy])  # no NVML on this machine
    chart = client.get(f"/api/experiments/{experiment_id}/metrics", params={"points": 2}).json()
    assert all(len(s["points"]) <= 2 for s in chart["series"])
    later = client.get(
        f"/api/experiments/{experiment_id}/metrics", params={"since": metrics["latest"]}
    ).json()
    assert all(s["points"] == [] for s in later["series"])

    scalars = f"/api/experiments/{experiment_id}/tensorboard/data/plugin/scalars/scalars"
    query = {"run": "train", "tag": "loss"}
    answer = client.get(scalars, params=query)
    assert answer.status_code == 200, answer.text
    assert [point[2] for point in answer.json()] == [1.0, 0.5, 0.25]
    anonymous = httpx.get(f"{client.base_url}{scalars}", params=query)
    assert anonymous.status_code == 401
