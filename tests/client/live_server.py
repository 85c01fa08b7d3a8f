"""A real `aichor server` on a free port with its own AICHOR_HOME, and a CLI environment for it.

Used by the server-backed CLI tests (tests/cli/test_*_server.py, test_experiments_commands.py,
test_admin_commands.py) through a module-scoped fixture: one server per test module.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import AICHOR, SHARED_CACHE, CliResult

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "correct horse battery staple"  # noqa: S105 - a test server's admin


@dataclass
class LiveServer:
    url: str
    home: Path
    env: dict[str, str]  # for the CLI: AICHOR_URL, a private XDG_CONFIG_HOME

    def cli(self, *args: str, input: str | None = None, cwd: Path | None = None) -> CliResult:
        proc = subprocess.run(
            [str(AICHOR), *args],
            input=input, cwd=cwd, env=self.env, capture_output=True, text=True,
            timeout=300, check=False,
        )  # fmt: skip
        return CliResult(proc.returncode, proc.stdout, proc.stderr)

    def login(self) -> None:
        result = self.cli(
            "login", "--email", ADMIN_EMAIL, "--password-stdin", input=ADMIN_PASSWORD + "\n"
        )
        assert result.returncode == 0, result.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    root: Path, database_url: str | None = None, *, port: int | None = None
) -> Iterator[LiveServer]:
    """Start, wait until it answers, yield, then stop it (SIGTERM, then SIGKILL).

    `database_url` None means the embedded default (SQLite under the server's home); `port`
    None means a free one."""
    port = port or free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AICHOR_")}
    env |= {
        "AICHOR_HOME": str(root / "home"),
        "AICHOR_CACHE_DIR": str(SHARED_CACHE),
        "AICHOR_ADMIN_EMAIL": ADMIN_EMAIL,
        "AICHOR_ADMIN_PASSWORD": ADMIN_PASSWORD,
    }
    if database_url:
        env["AICHOR_DATABASE_URL"] = database_url
    log = (root / "server.log").open("wb")
    proc = subprocess.Popen(
        [str(AICHOR), "server", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, proc, root / "server.log")
        cli_env = {k: v for k, v in env.items() if not k.startswith("AICHOR_ADMIN")}
        cli_env |= {"AICHOR_URL": url, "XDG_CONFIG_HOME": str(root / "xdg")}
        cli_env.pop("COLUMNS", None)
        yield LiveServer(url=url, home=root / "home", env=cli_env)
    finally:
        _stop(proc)
        log.close()


def _wait_until_up(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"aichor server exited {proc.returncode}:\n{log.read_text()}")
        try:
            httpx.get(f"{url}/api/me", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"aichor server did not answer within 60 s:\n{log.read_text()}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
