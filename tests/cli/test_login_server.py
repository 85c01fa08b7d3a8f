"""`aichor login` / `whoami` / `logout` against a real `aichor server`."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.client.live_server import ADMIN_EMAIL, ADMIN_PASSWORD, LiveServer, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from start_server(tmp_path_factory.mktemp("login-server"))


def config_file(server: LiveServer) -> Path:
    return Path(server.env["XDG_CONFIG_HOME"]) / "aichor" / "config.json"


def test_login_stores_a_private_token_and_logout_revokes_it(server: LiveServer) -> None:
    result = server.cli(
        "login", "--email", ADMIN_EMAIL, "--password-stdin", input=ADMIN_PASSWORD + "\n"
    )
    assert result.returncode == 0, result.stderr
    assert f"Logged in to {server.url} as {ADMIN_EMAIL}" in result.stdout
    stored = json.loads(config_file(server).read_text())
    assert stat.S_IMODE(config_file(server).stat().st_mode) == 0o600
    assert stored["url"] == server.url and stored["token"]

    me = server.cli("whoami", "--json")
    assert me.returncode == 0, me.stderr
    assert json.loads(me.stdout)["email"] == ADMIN_EMAIL
    assert "OrganizationAdmin" in json.loads(me.stdout)["roles"]

    assert server.cli("logout").returncode == 0
    assert json.loads(config_file(server).read_text())["token"] is None
    # The old token no longer works on the server.
    server.env["AICHOR_TOKEN"] = stored["token"]
    try:
        after = server.cli("whoami")
    finally:
        del server.env["AICHOR_TOKEN"]
    assert after.returncode == 1
    assert after.stderr.startswith("aichor: error: ") and after.stderr.count("\n") == 1
    assert after.stderr.rstrip().endswith("(run `aichor login`)")


def test_wrong_password_is_one_line_and_stores_nothing(server: LiveServer) -> None:
    config_file(server).unlink(missing_ok=True)
    result = server.cli("login", "--email", ADMIN_EMAIL, "--password-stdin", input="nope\n")
    assert result.returncode == 1
    assert result.stderr.startswith("aichor: error: ") and result.stderr.count("\n") == 1
    assert "password" in result.stderr and "Traceback" not in result.stderr
    assert not config_file(server).exists()


def test_password_prompt_reads_the_terminal_input(server: LiveServer) -> None:
    result = server.cli("login", input=f"{ADMIN_EMAIL}\n{ADMIN_PASSWORD}\n")
    assert result.returncode == 0, result.stderr
    assert "Email" in result.stdout and "Password" in result.stdout
    assert ADMIN_PASSWORD not in result.stdout
