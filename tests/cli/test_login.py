# ruff: noqa: S105, S106 - test credentials
"""Where the CLI keeps its token, and the one-line errors of login without a reachable server.

The server-backed login (token stored, bad password) is in test_login_server.py.
"""

from __future__ import annotations

import json
import socket
import stat
from pathlib import Path

import pytest

from aichor.cli.config import Config, config_path, load_config, save_config


@pytest.fixture(autouse=True)
def private_config(tmp_path: Path, aichor_env: dict[str, str], monkeypatch) -> None:
    """Never read or write the real user's config, in-process or in a subprocess."""
    for env in (aichor_env, None):
        for name in ("AICHOR_URL", "AICHOR_TOKEN", "AICHOR_CONFIG"):
            if env is None:
                monkeypatch.delenv(name, raising=False)
            else:
                env.pop(name, None)
    aichor_env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_config_file_is_private_and_round_trips(tmp_path: Path) -> None:
    path = save_config(Config(url="http://h:1", token="t0k", email="a@b.c", organisation="o"))
    assert path == tmp_path / "xdg/aichor/config.json" == config_path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_config() == Config(url="http://h:1", token="t0k", email="a@b.c", organisation="o")


def test_environment_overrides_the_file(monkeypatch) -> None:
    save_config(Config(url="http://file:1", token="from-file"))
    monkeypatch.setenv("AICHOR_URL", "http://env:2")
    monkeypatch.setenv("AICHOR_TOKEN", "from-env")
    assert (load_config().url, load_config().token) == ("http://env:2", "from-env")


def test_a_corrupt_config_is_one_line(run_cli, tmp_path: Path) -> None:
    path = tmp_path / "xdg/aichor/config.json"
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    result = run_cli("experiments", "list")
    assert result.returncode == 1
    assert result.stderr.startswith(f"aichor: error: {path}: unreadable aichor config")
    assert result.stderr.count("\n") == 1


def test_login_to_an_unreachable_server_is_one_line(run_cli, aichor_env, tmp_path: Path) -> None:
    import subprocess

    from tests.conftest import AICHOR

    url = closed_port_url()
    proc = subprocess.run(
        [str(AICHOR), "login", "--url", url, "--email", "a@b.c", "--password-stdin"],
        input="pw\n", env=aichor_env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 1
    assert proc.stderr == (
        f"aichor: error: cannot reach the aichor server at {url}: is `aichor server` running?\n"
    )
    assert not (tmp_path / "xdg/aichor/config.json").exists()


@pytest.mark.parametrize(
    "args",
    [["experiments", "list"], ["projects", "list"], ["whoami"], ["experiments", "logs", "x"]],
)
def test_commands_before_login_say_so(run_cli, args: list[str]) -> None:
    result = run_cli(*args)
    assert result.returncode == 1
    assert result.stderr == (
        "aichor: error: not logged in: run `aichor login` (or set AICHOR_TOKEN)\n"
    )


def test_a_stored_token_and_a_dead_server(run_cli, aichor_env) -> None:
    url = closed_port_url()
    aichor_env["AICHOR_URL"] = url
    aichor_env["AICHOR_TOKEN"] = "t"
    result = run_cli("experiments", "status", "abc")
    assert result.returncode == 1
    assert result.stderr.startswith(f"aichor: error: cannot reach the aichor server at {url}")
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1


def test_logout_forgets_the_token_even_when_the_server_is_gone(run_cli, tmp_path: Path) -> None:
    url = closed_port_url()
    save_config(Config(url=url, token="t0k", email="a@b.c"))
    result = run_cli("logout")
    assert result.returncode == 0, result.stderr
    assert "the server was not told" in result.stdout
    stored = json.loads((tmp_path / "xdg/aichor/config.json").read_text())
    assert stored["token"] is None and stored["url"] == url
    assert run_cli("logout").stdout == "Not logged in.\n"


def test_empty_password_is_refused(run_cli, aichor_env) -> None:
    import subprocess

    from tests.conftest import AICHOR

    proc = subprocess.run(
        [str(AICHOR), "login", "--url", closed_port_url(), "--email", "a@b.c",
         "--password-stdin"],
        input="\n", env=aichor_env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert (proc.returncode, proc.stderr) == (1, "aichor: error: empty password\n")
