"""Helpers for the server tests: settings on a fresh SQLite or PostgreSQL database, an API
session logged in as the first admin, and polling an experiment through the API."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
from pydantic import SecretStr

from aichor.db.session import make_engine
from aichor.settings import Settings
from tests.pipeline.conftest import tar_of

POSTGRES_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "correct horse battery staple"  # noqa: S105 - a test password
TERMINAL = {"Succeeded", "Failed", "Cancelled"}


def _postgres(statement: str) -> None:
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as connection:
        connection.execute(statement)  # type: ignore[arg-type]


@contextmanager
def database_url(kind: str, home: Path) -> Iterator[str]:
    """A URL for an empty database of `kind`, dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{home / 'aichor.db'}"
        return
    name = f"aichor_test_{uuid.uuid4().hex[:12]}"
    _postgres(f'CREATE DATABASE "{name}"')
    url = POSTGRES_URL.format(name=name)
    try:
        yield url
    finally:
        make_engine(Settings(home=home, database_url=url)).dispose()
        _postgres(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_settings(home: Path, url: str, *, workers: int = 2) -> Settings:
    return Settings(
        home=home,
        database_url=url,
        secret_key=SecretStr("s" * 32),
        admin_email=ADMIN_EMAIL,
        admin_password=SecretStr(ADMIN_PASSWORD),
        workers=workers,
    )


def login(client: httpx.Client) -> None:
    """Log in as the first admin; later requests carry the bearer token."""
    response = client.post(
        "/api/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    )
    response.raise_for_status()
    client.headers["Authorization"] = f"Bearer {response.json()['token']}"


def post_archive(client: httpx.Client, repo: Path) -> str:
    """Submit the repository's files as an archive to the `default` project through the API
    (manifest at `aichor/manifest.yaml`); the new experiment's id."""
    response = client.post(
        "/api/projects/default/experiments",
        data={"manifest_path": "aichor/manifest.yaml"},
        files={"archive": ("source.tar.gz", tar_of(repo), "application/gzip")},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def wait_for(
    client: httpx.Client,
    experiment_id: str,
    until: Callable[[dict[str, Any]], bool] = lambda e: e["status"] in TERMINAL,
    timeout: float = 120,
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    last: dict[str, Any] = {}
    while time.monotonic() < deadline:
        response = client.get(f"/api/experiments/{experiment_id}")
        response.raise_for_status()
        last = response.json()
        if until(last):
            return last
        time.sleep(0.1)
    raise AssertionError(f"{experiment_id} did not get there in {timeout}s: {last}")


def all_logs(client: httpx.Client, experiment_id: str, source: str | None = None) -> list[str]:
    texts: list[str] = []
    after = 0
    while True:
        params: dict[str, Any] = {"after": after}
        if source:
            params["source"] = source
        page = client.get(f"/api/experiments/{experiment_id}/logs", params=params).json()
        texts += [line["text"] for line in page["lines"]]
        after = page["next"]
        if not page["lines"]:
            return texts


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_env(home: Path, url: str, port: int, *, workers: int = 2) -> dict[str, str]:
    import os

    from tests.conftest import SHARED_CACHE

    env = {k: v for k, v in os.environ.items() if not k.startswith("AICHOR_")}
    env.update(
        AICHOR_HOME=str(home),
        AICHOR_DATABASE_URL=url,
        AICHOR_PORT=str(port),
        AICHOR_ADMIN_EMAIL=ADMIN_EMAIL,
        AICHOR_ADMIN_PASSWORD=ADMIN_PASSWORD,
        AICHOR_SECRET_KEY="s" * 32,
        AICHOR_WORKERS=str(workers),
        AICHOR_CACHE_DIR=str(SHARED_CACHE),
    )
    return env


class Server:
    """A real `aichor server` subprocess; `kill()` is a SIGKILL, `start()` starts it again."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.url = f"http://127.0.0.1:{env['AICHOR_PORT']}"
        self.process: Any = None

    def start(self, timeout: float = 60) -> Server:
        import subprocess

        from tests.conftest import AICHOR

        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [str(AICHOR), "server"], env=self.env, stdout=out, stderr=out
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/api/openapi.json", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"server did not start: {self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except Exception:
                self.process.kill()
                self.process.wait(30)


@contextmanager
def running_server(
    kind: str, home: Path, *, workers: int = 2
) -> Iterator[tuple[Server, httpx.Client]]:
    with database_url(kind, home) as url:
        home.mkdir(parents=True, exist_ok=True)
        server = Server(server_env(home, url, free_port(), workers=workers), home / "server.log")
        server.start()
        try:
            with httpx.Client(base_url=server.url, timeout=30) as client:
                login(client)
                yield server, client
        finally:
            server.stop()
