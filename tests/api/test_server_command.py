"""`aichor server` for real: a uvicorn process on a free port, on a fresh AICHOR_HOME."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

from tests.conftest import AICHOR


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_server_starts_migrates_and_answers(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "AICHOR_HOME": str(tmp_path / "home"),
        "AICHOR_ADMIN_EMAIL": "ops@example.org",
        "AICHOR_ADMIN_PASSWORD": "server-test-password",
        "AICHOR_WORKERS": "0",
    }
    process = subprocess.Popen(
        [str(AICHOR), "server", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        login = _wait_for_login(url)
        assert login.status_code == 200, login.text
        assert (tmp_path / "home" / "aichor.db").exists()
        body = {"email": "ops@example.org", "password": "server-test-password"}
        assert httpx.post(f"{url}/api/auth/session", json=body, timeout=5).is_success
        key = tmp_path / "home" / "secret.key"
        assert oct(key.stat().st_mode & 0o777) == "0o600"  # generated once for the session
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert f"aichor server on {url}" in output
    assert "server-test-password" not in output


def _wait_for_login(url: str) -> httpx.Response:
    body = {"email": "ops@example.org", "password": "server-test-password"}
    deadline = time.monotonic() + 30
    while True:
        try:
            return httpx.post(f"{url}/api/auth/login", json=body, timeout=5)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_several_processes_share_one_database(tmp_path: Path) -> None:
    """`--processes 2`: the parent migrates once; both API processes answer on the port."""
    port = _free_port()
    env = {
        **os.environ,
        "AICHOR_HOME": str(tmp_path / "home"),
        "AICHOR_ADMIN_EMAIL": "ops@example.org",
        "AICHOR_ADMIN_PASSWORD": "server-test-password",
        "AICHOR_WORKERS": "1",
    }
    process = subprocess.Popen(
        [str(AICHOR), "server", "--port", str(port), "--processes", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        login = _wait_for_login(url)
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        for _ in range(10):  # new connections, spread over both processes by the kernel
            listed = httpx.get(f"{url}/api/projects/default/experiments", headers=headers)
            assert listed.status_code == 200, listed.text
            assert listed.json()["items"] == []
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert output.count("created the first admin") <= 1, output
