"""`aichor demo`: the embedded control plane, end to end, for `make demo`.

Starts `aichor server` in the background (or reuses the one a previous demo left running), logs
in through the CLI with the demo's admin account, submits a bundled example with
`aichor experiments submit local --watch`, and prints where the API is. Everything it starts
goes through the `aichor` commands themselves: the demo shows what a user would type.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Annotated

import typer

from aichor.errors import AichorError
from aichor.home import AichorHome
from aichor.net import free_port

_ADMIN_EMAIL = "admin@aichor.local"
_START_TIMEOUT = 90.0
_STOP_TIMEOUT = 30.0


def demo(
    example: Annotated[Path, typer.Argument(help="Repository to submit.")] = Path(
        "examples/jobset"
    ),
    port: Annotated[
        int, typer.Option(help="Port for the server (0, or a taken port: any free one).")
    ] = 8080,
    stop: Annotated[bool, typer.Option("--stop", help="Stop the demo's server and exit.")] = False,
) -> None:
    """Start the embedded server, submit EXAMPLE through the CLI, follow it, print the URL."""
    home = AichorHome.from_env().root
    home.mkdir(parents=True, exist_ok=True)
    if stop:
        _stop_server(home)
        return
    password = _admin_password(home)
    url = _running_server(home) or _start_server(home, port, password)
    env = dict(os.environ, AICHOR_HOME=str(home), XDG_CONFIG_HOME=str(home / "config"))
    _aichor(["login", "--url", url, "--email", _ADMIN_EMAIL, "--password-stdin"], env, password)
    typer.echo(f"[demo] submitting {example} to {url}")
    submitted = subprocess.run(  # noqa: S603 - fixed argv
        [*_AICHOR, "experiments", "submit", "local", "--watch", "--message", "make demo"],
        cwd=example,
        env=env,
        check=False,
    )
    typer.echo("")
    typer.echo(f"[demo] aichor API and dashboard: {url}  (interactive API docs: {url}/api/docs)")
    typer.echo(f"[demo] admin: {_ADMIN_EMAIL}, password in {home / 'demo-admin-password'}")
    typer.echo(f"[demo] the server keeps running (log: {home / 'server.log'}); stop it with")
    typer.echo(f"       AICHOR_HOME={home} aichor demo --stop")
    if submitted.returncode != 0:
        raise typer.Exit(submitted.returncode)


_AICHOR = [sys.executable, "-m", "aichor"]


def _aichor(args: list[str], env: dict[str, str], stdin: str) -> None:
    result = subprocess.run(  # noqa: S603 - fixed argv
        [*_AICHOR, *args], env=env, input=stdin, text=True, capture_output=True, check=False
    )
    if result.returncode != 0:
        raise AichorError(f"demo: `aichor {args[0]}` failed: {result.stderr.strip()}")


def _admin_password(home: Path) -> str:
    """The demo admin's password, made once and kept (0600) so every demo can log in."""
    path = home / "demo-admin-password"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(18))
        path.chmod(0o600)
    return path.read_text().strip()


def _running_server(home: Path) -> str | None:
    """The URL of the server a previous demo started, if it still answers."""
    state = home / "demo-server.json"
    if not state.exists():
        return None
    info = json.loads(state.read_text())
    url = str(info["url"])
    return url if _pid_alive(int(info["pid"])) and _answers(url) else None


def _start_server(home: Path, port: int, password: str) -> str:
    port = port if port and _port_free(port) else free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(
        os.environ,
        AICHOR_HOME=str(home),
        AICHOR_ADMIN_EMAIL=_ADMIN_EMAIL,
        AICHOR_ADMIN_PASSWORD=password,
    )
    log = (home / "server.log").open("ab")
    # Its own session: the server outlives this command, like a service would.
    server = subprocess.Popen(  # noqa: S603 - fixed argv
        [*_AICHOR, "server", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    (home / "demo-server.json").write_text(json.dumps({"pid": server.pid, "url": url}))
    typer.echo(f"[demo] starting aichor server on {url} (log: {home / 'server.log'})")
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AichorError(f"demo: the server exited; see {home / 'server.log'}")
        if _answers(url):
            return url
        time.sleep(0.2)
    raise AichorError(f"demo: the server did not answer within {_START_TIMEOUT:.0f}s")


def _stop_server(home: Path) -> None:
    state = home / "demo-server.json"
    if not state.exists():
        typer.echo("[demo] no demo server is running")
        return
    pid = int(json.loads(state.read_text())["pid"])
    if _pid_alive(pid):
        os.killpg(pid, signal.SIGTERM)
        # Return only once it is gone, so "stopped" means the port is closed.
        deadline = time.monotonic() + _STOP_TIMEOUT
        while _pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _pid_alive(pid):
            os.killpg(pid, signal.SIGKILL)
    state.unlink()
    typer.echo(f"[demo] stopped the server (pid {pid})")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/me", timeout=2):  # noqa: S310 - our own URL
            return True
    except urllib.error.HTTPError:
        return True  # 401 without a token: the API is up
    except OSError:
        return False


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0
