"""Control-plane API at scale, on SQLite and PostgreSQL, in one run.

For each database: a real `aichor server` on a fresh database (`--processes`, default 1, each
with one pipeline worker thread);
1. resident memory of the server (every API process, summed), idle;
2. submissions per second: three bursts of 1,000 archive submissions over HTTP from 8 client
   threads, queued behind one experiment that fills the engine (so they stay queued); the
   median burst is the figure, and every burst is shown;
3. resident memory while the server tracks the first burst's 1,000 queued experiments;
4. the baseline of the same run: experiments per second written straight into the database
   by this process (SQLAlchemy Core, 8 threads, one transaction each), and the ratio;
5. more experiments (with their steps) inserted directly up to 100,000, then `GET`
   experiment-list latency p50/p99 over first pages, filtered pages and deep cursor pages.

Usage: .venv/bin/python -m bench.api [--submissions N] [--rows N] [--write-docs]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import io
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import psutil
import psycopg
from sqlalchemy import Connection, Row, create_engine, insert, select, text

from aichor.db import tables
from aichor.lifecycle import STEP_ORDER, ExperimentStatus, Step, StepStatus
from bench.api_report import render
from bench.machine import write_section

AICHOR = Path(sys.executable).parent / "aichor"
POSTGRES_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
EMAIL, PASSWORD = "bench@example.com", "bench password 123"
MANIFEST = """\
kind: AIchorManifest
apiVersion: 0.2.3
builder: {{image: bench, dockerfile: ./Dockerfile, context: .}}
spec:
  operator: jobset
  image: bench
  command: "{command}"
  types:
    worker: {{count: {count}, resources: {{cpus: {cpus}, ramRatio: 0.1}}}}
"""


def archive(command: str, cpus: float) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in (
            ("manifest.yaml", MANIFEST.format(command=command, count=1, cpus=cpus)),
            ("Dockerfile", "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\n"),
        ):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(home: Path, url: str, processes: int = 1) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AICHOR_")}
    env.update(
        AICHOR_HOME=str(home),
        AICHOR_DATABASE_URL=url,
        AICHOR_PORT=str(port),
        AICHOR_ADMIN_EMAIL=EMAIL,
        AICHOR_ADMIN_PASSWORD=PASSWORD,
        AICHOR_WORKERS="1",
    )
    log = (home / "server.log").open("wb")
    command = [str(AICHOR), "server", "--processes", str(processes)]
    server = subprocess.Popen(command, env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{base}/api/openapi.json", timeout=1).status_code == 200:
                return server, base
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("the server did not start")


def api_processes(process: subprocess.Popen[bytes]) -> list[psutil.Process]:
    """The server process and its API worker processes, if any.

    Not the detached supervisors of running experiments, which are the engine's, not ours, nor
    children that have just exited (a zombie has no command line).
    """
    parent = psutil.Process(process.pid)
    return [parent, *(child for child in parent.children(recursive=True) if _api_worker(child))]


def _api_worker(child: psutil.Process) -> bool:
    try:
        return "multiprocessing" in " ".join(child.cmdline())
    except psutil.Error:
        return False


def rss_mib(process: subprocess.Popen[bytes]) -> float:
    """The server's resident memory: every API process, summed."""
    return sum(p.memory_info().rss for p in api_processes(process)) / 2**20


def multipart_form(archive_bytes: bytes) -> tuple[bytes, str]:
    """The body and content type of an archive submission (`manifest_path` and `archive`
    fields, as `aichor experiments submit local` sends them), encoded once."""
    boundary = uuid.uuid4().hex
    body = (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="manifest_path"\r\n\r\n'
            "manifest.yaml\r\n"
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="archive"; filename="a.tar.gz"\r\n'
            "Content-Type: application/gzip\r\n\r\n"
        ).encode()
        + archive_bytes
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


class Client:
    """A lean HTTP/1.1 keep-alive client (`http.client`, TCP_NODELAY) for the load generator.

    The client shares the machine's cores with the server and PostgreSQL, so its own CPU per
    request counts against the server: httpx costs about 1.3 ms of CPU per submission, this
    about 0.3 ms. Every request is still a complete HTTP request through the real server,
    and every answer is checked.
    """

    def __init__(self, base: str, token: str) -> None:
        url = urlsplit(base)
        self.connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=60)
        self.connection.connect()
        assert self.connection.sock is not None
        self.connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.headers = {"Authorization": token}

    def call(self, method: str, path: str, body: bytes | None = None, **headers: str) -> Any:
        """The decoded JSON answer; AssertionError unless the status is 200 or 201."""
        self.connection.request(method, path, body=body, headers={**self.headers, **headers})
        response = self.connection.getresponse()
        payload = response.read()
        assert response.status in (200, 201), (response.status, payload[:300])
        return json.loads(payload)

    def close(self) -> None:
        self.connection.close()


CLIENTS = 8
BURSTS = 3
BASELINE_FROM = 10_000_000
"""Numbers of the baseline's experiments (their commit and age), apart from the bulk rows'."""


def submit_many(base: str, token: str, count: int, data: bytes) -> float:
    """Submissions per second over `count` archive uploads from `CLIENTS` threads, each with
    its own keep-alive connection; every answer is checked for the new experiment's id."""
    body, content_type = multipart_form(data)
    path = "/api/projects/default/experiments"

    def one(_: int) -> None:
        client = Client(base, token)
        try:
            for _ in range(count // CLIENTS):
                answer = client.call("POST", path, body, **{"Content-Type": content_type})
                assert answer["experiment_id"]
        finally:
            client.close()

    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(one, range(CLIENTS)))
    return (count // CLIENTS * CLIENTS) / (time.perf_counter() - started)


def _owner(connection: Connection) -> tuple[Row[Any], str]:
    """The default project and the bench user's id."""
    project = connection.execute(
        select(tables.Project).where(tables.Project.name == "default")
    ).one()
    user_id = connection.execute(select(tables.User.id).where(tables.User.email == EMAIL))
    return project, user_id.scalar_one()


def finished_rows(
    project: Row[Any], user_id: str, numbers: range
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Finished experiments numbered `numbers` (a year old and older), and their six steps."""
    start = datetime.now(UTC) - timedelta(days=400)
    statuses = [ExperimentStatus.SUCCEEDED, ExperimentStatus.FAILED, ExperimentStatus.CANCELLED]
    experiments, steps = [], []
    for n in numbers:
        experiment_id = str(uuid.uuid4())
        experiments.append(
            {
                "id": experiment_id,
                "organisation_id": project.organisation_id,
                "project_id": project.id,
                "engine_id": project.default_engine_id,
                "user_id": user_id,
                "source_kind": "commit",
                "commit_sha": f"{n:040x}",
                "branch": f"branch-{n % 20}",
                "manifest_path": "manifest.yaml",
                "status": statuses[n % 3],
                "current_step": Step.COMPLETED,
                "created_at": start + timedelta(seconds=n),
                "updated_at": start,
                "author": EMAIL,
                "message": "bench",
                "archive_key": "",
                "manifest_text": "",
                "operator": "jobset",
                "requested_cpus": 1.0,
                "requested_memory_gib": 1.0,
                "requested_gpus": 0,
                "priority": 0,
                "workload_name": "",
                "cancel_requested": False,
                "failure_reason": "",
                "failed_replica": "",
            }
        )
        steps += [
            {
                "id": str(uuid.uuid4()),
                "experiment_id": experiment_id,
                "step": step,
                "position": i,
                "status": StepStatus.SUCCEEDED,
                "message": "",
            }
            for i, step in enumerate(STEP_ORDER)
        ]
    return experiments, steps


def bulk_insert(url: str, rows: int, first: int = 0) -> None:
    """`rows` finished experiments with their six steps, older than the submitted ones."""
    engine = create_engine(url)
    with engine.begin() as connection:
        project, user_id = _owner(connection)
        for chunk in range(first, first + rows, 5000):
            numbers = range(chunk, min(chunk + 5000, first + rows))
            experiments, steps = finished_rows(project, user_id, numbers)
            connection.execute(insert(tables.Experiment), experiments)
            connection.execute(insert(tables.ExperimentStep), steps)
    with engine.connect() as connection:  # fresh statistics, as autovacuum would gather
        connection.execute(text("ANALYZE"))
        connection.commit()
    engine.dispose()


def direct_inserts(url: str, count: int) -> float:
    """The baseline, in the same run: experiments per second written straight into the
    database by this process through SQLAlchemy Core, from `CLIENTS` threads (each with its
    own connection), one transaction per experiment (its row and six steps). No HTTP, no
    authentication, no archive and no manifest: what is left is the database and one Python
    process, the two things a submission through the server cannot avoid."""
    engine = create_engine(url, pool_size=CLIENTS)
    with engine.connect() as connection:
        project, user_id = _owner(connection)
    rows = [
        finished_rows(project, user_id, range(n, n + 1))
        for n in range(BASELINE_FROM, BASELINE_FROM + count)
    ]

    def write(share: list[tuple[list[dict[str, Any]], list[dict[str, Any]]]]) -> None:
        for experiments, steps in share:
            with engine.begin() as connection:
                connection.execute(insert(tables.Experiment), experiments)
                connection.execute(insert(tables.ExperimentStep), steps)

    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(write, [rows[i::CLIENTS] for i in range(CLIENTS)]))
    elapsed = time.perf_counter() - started
    engine.dispose()
    return count / elapsed


def list_latencies(base: str, token: str, repeats: int) -> list[float]:
    """Seconds per `GET` of the list, from one keep-alive connection, over five variants."""
    client = Client(base, token)
    try:
        path = "/api/projects/default/experiments"
        deep = client.call("GET", f"{path}?limit=200")["next_cursor"]
        for _ in range(20):  # walk 4,000 rows in
            deep = client.call("GET", f"{path}?{urlencode({'limit': 200, 'cursor': deep})}")[
                "next_cursor"
            ]
        variants = [
            path,
            f"{path}?status=Failed",
            f"{path}?branch=branch-7",
            f"{path}?{urlencode({'user': EMAIL})}",
            f"{path}?{urlencode({'cursor': deep})}",
        ]
        timings: list[float] = []
        for n in range(repeats):
            started = time.perf_counter()
            page = client.call("GET", variants[n % len(variants)])
            timings.append(time.perf_counter() - started)
            assert page["items"]
        return timings
    finally:
        client.close()


@contextlib.contextmanager
def bench_database(kind: str, prefix: str) -> Iterator[tuple[Path, str, str]]:
    """A fresh home and database for one bench (`kind` sqlite|postgresql): (home, SQLAlchemy
    URL, PostgreSQL database name); both removed afterwards."""
    home = Path(tempfile.mkdtemp(prefix=f"{prefix}-{kind}-"))
    name = f"aichor_bench_{uuid.uuid4().hex[:8]}"
    if kind == "sqlite":
        url = f"sqlite:///{home / 'aichor.db'}"
    else:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    try:
        yield home, url, name
    finally:
        if kind == "postgresql":
            with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]
        shutil.rmtree(home, ignore_errors=True)


def measure(kind: str, submissions: int, rows: int, processes: int) -> dict[str, float]:
    with bench_database(kind, "bench-api") as (home, url, name):
        server, base = start_server(home, url, processes)
        try:
            token = (
                "Bearer "
                + httpx.post(
                    f"{base}/api/auth/login", json={"email": EMAIL, "password": PASSWORD}
                ).json()["token"]
            )
            time.sleep(2)
            idle = rss_mib(server)
            cores = psutil.cpu_count()
            blocker = submit_many(base, token, 8, archive("sleep 3600", float(cores or 1)))
            del blocker
            os.sync()  # the previous stage's writes (another database's bulk insert) flushed now
            time.sleep(1)
            load = os.getloadavg()[0]
            before = cpu_seconds(server, name)
            bursts = [submit_many(base, token, submissions, archive("true", 1.0))]
            time.sleep(3)
            tracking = rss_mib(server)  # with the first burst's experiments queued
            bursts += [
                submit_many(base, token, submissions, archive("true", 1.0))
                for _ in range(BURSTS - 1)
            ]
            cpu = {
                part: (after - before[part]) / (submissions * BURSTS) * 1000
                for part, after in cpu_seconds(server, name).items()
            }
            baseline = direct_inserts(url, submissions)
            bulk_insert(url, rows - submissions * (BURSTS + 1) - 8)
            list_load = os.getloadavg()[0]
            timings = list_latencies(base, token, 500)
        finally:
            server.terminate()
            server.wait(60)
            _stop_runs(home)
    quantiles = statistics.quantiles(timings, n=100)
    return {
        "processes": processes,
        "load": load,
        "list_load": list_load,
        **{f"cpu_{part}": ms for part, ms in cpu.items()},
        "rate": statistics.median(bursts),
        **{f"burst_{n}": rate for n, rate in enumerate(bursts)},
        "baseline": baseline,
        "p50": quantiles[49] * 1000,
        "p99": quantiles[98] * 1000,
        "idle": idle,
        "tracking": tracking,
    }


def cpu_seconds(server: subprocess.Popen[bytes], database: str) -> dict[str, float]:
    """CPU seconds used so far by the server (with its API processes), by the PostgreSQL
    backends serving its database (0 for SQLite, which runs inside the server) and by this
    client process."""

    def used(process: psutil.Process) -> float:
        try:
            times = process.cpu_times()
        except psutil.Error:
            return 0.0
        return float(times.user + times.system)

    backends = [
        p for p in psutil.process_iter(["cmdline"]) if database in " ".join(p.info["cmdline"] or [])
    ]
    me = os.times()
    return {
        "server": sum(used(p) for p in api_processes(server)),
        "postgres": sum(used(p) for p in backends),
        "client": me.user + me.system,
    }


def _stop_runs(home: Path) -> None:
    """The blocking experiments' detached supervisors outlive the server: cancel them."""
    for run in (home / "runs").glob("*"):
        (run / "cancel").touch()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(
        not (run / "outcome.json").exists() for run in (home / "runs").glob("*")
    ):
        time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--processes", type=int, default=1, help="aichor server --processes")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    results = {
        kind: measure(kind, args.submissions, args.rows, args.processes)
        for kind in ("sqlite", "postgresql")
    }
    text = render(
        results, submissions=args.submissions, rows=args.rows, clients=CLIENTS, bursts=BURSTS
    )
    print(text)
    if args.write_docs:
        write_section("api", text)


if __name__ == "__main__":
    main()
