"""Project storage end to end on the embedded default, through its real S3 endpoint: a workload
submitted to a real `aichor server` reads an input object with boto3 and writes an output object
with s3fs, using only the variables every replica gets (`AICHOR_INPUT_PATH`,
`AICHOR_OUTPUT_PATH`, `AWS_ENDPOINT_URL`/`S3_ENDPOINT` and the project's key); the CLI then
downloads what it wrote, which is also a plain file on the server's disk. The embedded endpoint
dies with a SIGKILLed server.

Slow: the workload's environment installs boto3 and s3fs with uv (quick once the cache is warm).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.client.live_server import free_port, start_server
from tests.conftest import AICHOR
from tests.pipeline.conftest import tar_of, write_repo
from tests.pipeline.servers import all_logs, running_server, wait_for

WORKLOAD = """\
import os

import boto3
import s3fs

input_path, output_path = os.environ["AICHOR_INPUT_PATH"], os.environ["AICHOR_OUTPUT_PATH"]
bucket, _, prefix = input_path.removeprefix("s3://").partition("/")
s3 = boto3.client("s3")  # endpoint and key from AWS_ENDPOINT_URL / AWS_ACCESS_KEY_ID / ...
numbers = s3.get_object(Bucket=bucket, Key=prefix + "data/numbers.txt")["Body"].read().split()
fs = s3fs.S3FileSystem(client_kwargs={"endpoint_url": os.environ["S3_ENDPOINT"]})
with fs.open(output_path + "result.txt", "w") as handle:
    handle.write(f"total={sum(int(n) for n in numbers)}\\n")
print("read", input_path, "wrote", output_path + "result.txt", flush=True)
"""
DOCKERFILE = "FROM python:3.11-slim\nWORKDIR /app\nRUN pip install boto3 s3fs\nCOPY . .\n"


@pytest.mark.slow
def test_workload_reads_with_boto3_and_writes_with_s3fs(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with running_server("sqlite", home) as (server, client):
        put = client.put(
            "/api/projects/default/storage/objects/input/data/numbers.txt", content=b"1 2 3 4\n"
        )
        assert put.status_code == 201, put.text
        repo = tmp_path / "repo"
        write_repo(
            repo, command="python main.py", files={"main.py": WORKLOAD, "Dockerfile": DOCKERFILE}
        )
        files = {"archive": ("source.tar.gz", tar_of(repo), "application/gzip")}
        submitted = client.post(
            "/api/projects/default/experiments",
            data={"manifest_path": "aichor/manifest.yaml", "message": "s3"},
            files=files,
        )
        assert submitted.status_code == 201, submitted.text
        experiment_id = submitted.json()["id"]
        done = wait_for(client, experiment_id, timeout=600)
        logs = all_logs(client, experiment_id)
        assert done["status"] == "Succeeded", (done, logs[-30:])
        wrote = f"s3://default-output/output/{experiment_id}/result.txt"
        assert f"read s3://default-input/ wrote {wrote}" in logs

        token = client.post("/api/tokens", json={"name": "cli"}).json()["token"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("AICHOR_")}
        env |= {"AICHOR_URL": server.url, "AICHOR_TOKEN": token}
        target = tmp_path / "result.txt"
        copied = subprocess.run(
            [str(AICHOR), "storage", "cp", wrote, str(target)],
            env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert copied.returncode == 0, copied.stderr
        assert target.read_text() == "total=10\n"
        storage = client.get("/api/projects/default/storage").json()
        project_id = storage["project_id"]
        on_disk = home / "buckets" / project_id / "default-output" / "output" / experiment_id
        assert (on_disk / "result.txt").read_text() == "total=10\n"

        rclone = _endpoint_process(home, project_id)
        server.kill()
        rclone.wait(timeout=10)  # the kernel SIGKILLs it with its parent


def _endpoint_process(home: Path, project_id: str) -> psutil.Process:
    endpoint = json.loads((home / "storage" / "endpoints" / f"{project_id}.json").read_text())
    process = psutil.Process(endpoint["pid"])
    assert "rclone" in process.name()
    return process


def _endpoint_url(client: Any) -> tuple[str, str]:
    deadline = time.monotonic() + 10
    while not (storage := client.get("/api/projects/default/storage").json())["endpoint_url"]:
        assert time.monotonic() < deadline, storage
        time.sleep(0.1)
    return storage["project_id"], storage["endpoint_url"]


def test_endpoint_dies_with_a_killed_server_and_comes_back_at_the_same_url(
    tmp_path: Path,
) -> None:
    """Replicas outlive a server crash (decision 061): the URL they were given must work again."""
    home = tmp_path / "home"
    with running_server("sqlite", home, workers=0) as (server, client):
        project_id, url = _endpoint_url(client)
        rclone = _endpoint_process(home, project_id)
        server.kill()
        rclone.wait(timeout=10)
        assert not rclone.is_running()
        server.start()
        assert _endpoint_url(client) == (project_id, url)


def test_a_project_endpoint_never_takes_the_api_port(tmp_path: Path) -> None:
    """uvicorn binds the API's port only after start-up, when the project endpoints already
    run: a project whose remembered endpoint port is the API's port (free at that moment) must
    get another one, and the API must answer on its own port. Before the fix, rclone took the
    port, the server could not bind it and exited (seen once in a full run: the test servers'
    free ports and rclone's are both drawn from the ephemeral range)."""
    ports_file = tmp_path / "home" / "storage" / "ports.json"
    for _live in start_server(tmp_path):
        deadline = time.monotonic() + 30
        while not ports_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    remembered = json.loads(ports_file.read_text())
    assert remembered, "the default project's endpoint port is remembered"
    api_port = free_port()
    ports_file.write_text(json.dumps({project: api_port for project in remembered}))

    for live in start_server(tmp_path, port=api_port):
        live.login()  # the API answers on its port
        assert live.cli("projects", "list").returncode == 0
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            now = json.loads(ports_file.read_text())
            if now.keys() == remembered.keys() and api_port not in now.values():
                break
            time.sleep(0.1)
        assert api_port not in json.loads(ports_file.read_text()).values()
