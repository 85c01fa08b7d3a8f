"""`aichor projects`, `engines`, `variables` and `users` against a real `aichor server`:
JSON output, tables, and the server's refusals (roles, unknown names) as one line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.client.live_server import ADMIN_EMAIL, LiveServer, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    for live in start_server(tmp_path_factory.mktemp("admin-server")):
        live.login()
        yield live


def ok_json(server: LiveServer, *args: str, input: str | None = None) -> Any:
    result = server.cli(*args, "--json", input=input)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def one_line_error(server: LiveServer, *args: str) -> str:
    result = server.cli(*args)
    assert result.returncode == 1, result.stdout
    assert result.stderr.startswith("aichor: error: ") and result.stderr.count("\n") == 1
    return result.stderr


def me(server: LiveServer) -> dict[str, Any]:
    return dict(ok_json(server, "whoami"))


def test_engines_need_the_infrastructure_role(server: LiveServer) -> None:
    engines = ok_json(server, "engines", "list")
    assert [e["name"] for e in engines] == ["local"]
    assert "local" in server.cli("engines", "list").stdout

    if "InfrastructureAdmin" not in me(server)["roles"]:
        one_line_error(server, "engines", "create", "big", "--cpus", "2")
        roles = [*me(server)["roles"], "InfrastructureAdmin"]
        updated = ok_json(server, "users", "set-roles", me(server)["id"], *roles)
        assert "InfrastructureAdmin" in updated[0]["roles"]
    created = ok_json(
        server, "engines", "create", "big", "--cpus", "2", "--memory-gib", "4",
        "--gpu", "NVIDIA-A100=2",
    )  # fmt: skip
    assert (created[0]["name"], created[0]["gpus"]) == ("big", {"NVIDIA-A100": 2})
    shown = ok_json(server, "engines", "show", "big")
    assert shown[0]["cpus"] == 2
    assert ok_json(server, "engines", "update", "big", "--cpus", "1")[0]["cpus"] == 1
    assert server.cli("engines", "delete", "big").returncode == 0
    assert "not found" in one_line_error(server, "engines", "show", "big")
    bad = one_line_error(server, "engines", "create", "x", "--gpu", "A100")
    assert "--gpu 'A100': expected KEY=VALUE" in bad


def test_projects_lifecycle(server: LiveServer) -> None:
    created = ok_json(
        server, "projects", "create", "vision", "--repository-url", "https://example.com/v.git",
        "--engine", "local", "--default-engine", "local",
    )  # fmt: skip
    engine_id = ok_json(server, "engines", "list")[0]["id"]
    assert created[0]["default_engine_id"] == engine_id
    names = [p["name"] for p in ok_json(server, "projects", "list")]
    assert {"default", "vision"} <= set(names)
    updated = ok_json(
        server, "projects", "update", "vision", "--repository-url", "https://example.com/w.git"
    )
    assert updated[0]["repository_url"] == "https://example.com/w.git"
    assert "vision" in server.cli("projects", "show", "vision").stdout
    user_id = me(server)["id"]
    assert server.cli("projects", "add-member", "vision", user_id).returncode == 0
    assert server.cli("projects", "remove-member", "vision", user_id).returncode == 0
    assert server.cli("projects", "delete", "vision").returncode == 0
    assert "not found" in one_line_error(server, "projects", "show", "vision")
    one_line_error(server, "projects", "create", "default")  # the name is taken


def test_variables_hide_sensitive_values(server: LiveServer) -> None:
    plain = ok_json(server, "variables", "set", "LR", "0.1")
    assert (plain[0]["value"], plain[0]["kind"]) == ("0.1", "runtime")
    secret = ok_json(server, "variables", "set", "API_KEY", "-", "--sensitive", input="s3cr3t\n")
    assert secret[0]["value"] is None
    listed = {v["name"]: v for v in ok_json(server, "variables", "list")}
    assert listed["API_KEY"]["value"] is None and listed["LR"]["value"] == "0.1"
    assert "s3cr3t" not in server.cli("variables", "list").stdout
    assert server.cli("variables", "delete", plain[0]["id"]).returncode == 0
    assert "LR" not in {v["name"] for v in ok_json(server, "variables", "list")}
    one_line_error(server, "variables", "set", "X", "1", "--kind", "other")


def test_users_and_invitations(server: LiveServer) -> None:
    users = ok_json(server, "users", "list")
    assert ADMIN_EMAIL in [u["email"] for u in users]
    invitation = ok_json(server, "users", "invite", "new@example.com", "--role", "User")
    assert invitation[0]["email"] == "new@example.com" and invitation[0]["link"]
    pending = ok_json(server, "users", "invitations")
    assert "new@example.com" in [i["email"] for i in pending]
    one_line_error(server, "users", "set-roles", "no-such-user", "User")
