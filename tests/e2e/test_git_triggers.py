"""Acceptance of git triggers against a real `aichor server` (SQLite and PostgreSQL): a real
`git push` to a bare repository with the installed hook and a GitHub-format signed webhook each
start exactly one experiment; a bad signature is 401 and creates nothing; a commit without the
prefix creates nothing; redeliveries create nothing new. The triggered workload prints a
sensitive project variable, which the API serves masked and never returns."""

from __future__ import annotations

import json
import stat
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from aichor.services.webhook_payloads import signature
from tests.conftest import AICHOR
from tests.pipeline.conftest import DOCKERFILE
from tests.pipeline.conftest import MANIFEST as TINY_MANIFEST
from tests.pipeline.servers import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    Server,
    all_logs,
    running_server,
    wait_for,
)

# The pipeline tests' tiny jobset experiment, printing the sensitive variable.
MANIFEST = TINY_MANIFEST.format(
    command="python -c \"import os; print('key=' + os.environ['API_KEY'])\"", count=1, cpus=0.25
)
STRANGER = "stranger@example.org"
API_KEY = "sk-live-e2e-81c4"


@dataclass
class Setup:
    server: Server
    api: httpx.Client
    cli_env: dict[str, str]
    work: Path
    origin: Path

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(AICHOR), *args],
            input=stdin,
            env=self.cli_env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def git(self, *args: str, email: str = ADMIN_EMAIL) -> str:
        done = subprocess.run(
            ["git", "-c", f"user.email={email}", "-c", "user.name=Pusher", *args],
            cwd=self.work,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout + done.stderr

    def commit(self, message: str, *, email: str = ADMIN_EMAIL) -> str:
        (self.work / "notes.txt").write_text(uuid.uuid4().hex)
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message, email=email)
        return self.git("rev-parse", "HEAD").strip()

    def experiments(self) -> list[dict[str, Any]]:
        response = self.api.get("/api/projects/default/experiments")
        response.raise_for_status()
        items: list[dict[str, Any]] = response.json()["items"]
        return items


@pytest.fixture(params=["sqlite", "postgresql"])
def setup(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Setup]:
    with running_server(request.param, tmp_path / "home") as (server, api):
        cli_env = {k: v for k, v in server.env.items() if not k.startswith("AICHOR_")}
        cli_env |= {"AICHOR_URL": server.url, "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
        origin = tmp_path / "origin.git"
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
        work = tmp_path / "work"
        (work / "aichor_manifests" / "sub").mkdir(parents=True)
        (work / "aichor_manifests" / "manifest.yaml").write_text(MANIFEST)
        (work / "aichor_manifests" / "sub" / "train.yaml").write_text(MANIFEST)
        (work / "Dockerfile").write_text(DOCKERFILE)
        subprocess.run(["git", "init", "-q", "-b", "main", str(work)], check=True)
        setup = Setup(server, api, cli_env, work, origin)
        setup.git("remote", "add", "origin", str(origin))
        login = setup.cli(
            "login", "--email", ADMIN_EMAIL, "--password-stdin", stdin=ADMIN_PASSWORD + "\n"
        )
        assert login.returncode == 0, login.stderr
        yield setup


def _github_push(
    setup: Setup, sha: str, message: str, *, delivery: str, secret: str, branch: str = "feature"
) -> httpx.Response:
    project_id = setup.api.get("/api/projects/default").json()["id"]
    body = json.dumps(
        {
            "ref": f"refs/heads/{branch}",
            "after": sha,
            "commits": [
                {
                    "id": sha,
                    "message": message,
                    "author": {"name": "S", "email": STRANGER, "username": "s"},
                }
            ],
        }
    ).encode()
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": signature(secret, body),
    }
    return httpx.post(
        f"{setup.server.url}/api/webhooks/github/{project_id}", content=body, headers=headers
    )


def test_push_through_the_hook_and_a_github_webhook_each_start_one_experiment(
    setup: Setup,
) -> None:
    installed = setup.cli("vcs", "install-hook", str(setup.origin), "--project", "default")
    assert installed.returncode == 0, installed.stderr
    hook = setup.origin / "hooks" / "post-receive"
    assert hook.stat().st_mode & stat.S_IXUSR
    assert stat.S_IMODE((hook.parent / "aichor-webhook.json").stat().st_mode) == 0o600
    assert setup.api.get("/api/projects/default").json()["repository_url"] == str(setup.origin)

    variable = {"name": "API_KEY", "value": API_KEY, "sensitive": True}
    assert setup.api.post("/api/projects/default/variables", json=variable).status_code == 201

    # A real push: one commit asks for an experiment, the next does not.
    wanted = setup.commit("aichor[manifest.yaml]: first run\n\nwith a body")
    plain = setup.commit("fix a typo in the notes")
    pushed = setup.git("push", "-q", "origin", "main")
    assert f"{wanted[:12]} created" in pushed, pushed
    assert f"{plain[:12]} ignored: the message starts with neither" in pushed, pushed
    [first] = setup.experiments()
    assert (first["commit_sha"], first["branch"], first["message"]) == (wanted, "main", "first run")
    assert first["manifest_path"] == "aichor_manifests/manifest.yaml"
    done = wait_for(setup.api, first["id"])
    assert done["status"] == "Succeeded", done
    # The workload printed its sensitive variable: stored and served masked, never returned.
    assert "key=****" in all_logs(setup.api, first["id"])
    for path in (
        f"/api/experiments/{first['id']}",
        "/api/projects/default/variables",
        f"/api/experiments/{first['id']}/logs",
        "/api/projects/default/experiments",
    ):
        assert API_KEY not in setup.api.get(path).text

    # The same push notice again (the hook re-run with git's line): nothing new.
    line = f"{'0' * 40} {plain} refs/heads/main\n"
    again = subprocess.run(
        [str(hook)], input=line, cwd=setup.origin, capture_output=True, text=True, check=True
    )
    assert "already received" in again.stdout, again
    assert len(setup.experiments()) == 1

    # A GitHub-format webhook for another commit (fetched into the bare repository: no hook).
    setup.git("checkout", "-q", "-b", "feature")
    other = setup.commit("aichor[sub/train]: from github", email=STRANGER)
    subprocess.run(
        ["git", "-C", str(setup.origin), "fetch", "-q", str(setup.work), "feature:feature"],
        check=True,
    )
    secret = setup.api.get("/api/projects/default/webhook").json()["secret"]
    delivery = str(uuid.uuid4())
    answer = _github_push(
        setup, other, "aichor[sub/train]: from github", delivery=delivery, secret=secret
    )
    assert answer.status_code == 200, answer.text
    [outcome] = answer.json()["commits"]
    assert outcome["status"] == "created" and outcome["manifest_path"] == (
        "aichor_manifests/sub/train.yaml"
    )
    assert outcome["submitted_as"].startswith("webhook+")  # the author is not a member
    assert len(setup.experiments()) == 2
    second = wait_for(setup.api, outcome["experiment_id"])
    assert second["status"] == "Succeeded", second
    assert second["author"] == STRANGER and second["branch"] == "feature"

    # Redelivery (same id), and the same commit in a new delivery: nothing new.
    redelivered = _github_push(
        setup, other, "aichor[sub/train]: from github", delivery=delivery, secret=secret
    )
    assert redelivered.status_code == 200 and redelivered.json()["duplicate_delivery"] is True
    twin = _github_push(
        setup, other, "aichor[sub/train]: from github", delivery=str(uuid.uuid4()), secret=secret
    )
    assert twin.json()["commits"][0]["status"] == "duplicate"
    assert twin.json()["commits"][0]["experiment_id"] == outcome["experiment_id"]

    # A bad signature: 401, nothing created; a commit without the prefix: nothing created.
    forged_message = "aichor[manifest.yaml]: forged"
    forged = _github_push(
        setup,
        setup.commit(forged_message),
        forged_message,
        delivery=str(uuid.uuid4()),
        secret="not-the-secret",  # noqa: S106 - a wrong secret on purpose
    )
    assert forged.status_code == 401, forged.text
    unprefixed = _github_push(
        setup,
        setup.commit("just a commit"),
        "just a commit",
        delivery=str(uuid.uuid4()),
        secret=secret,
    )
    assert unprefixed.json()["commits"][0]["status"] == "ignored"
    assert len(setup.experiments()) == 2


def test_webhook_cli_shows_and_rotates_the_secret(setup: Setup) -> None:
    shown = setup.cli("projects", "webhook", "default", "--json")
    assert shown.returncode == 0, shown.stderr
    view = json.loads(shown.stdout)
    assert set(view["urls"]) == {"github", "gitlab", "bitbucket", "azure", "git"}
    assert view["urls"]["github"].endswith(f"/api/webhooks/github/{view['project_id']}")
    rotated = setup.cli("projects", "webhook", "default", "--rotate", "--json")
    assert json.loads(rotated.stdout)["secret"] != view["secret"]
    body = b'{"ref": "refs/heads/main", "commits": []}'
    signed = {"X-Hub-Signature-256": signature(view["secret"], body), "X-GitHub-Event": "push"}
    old = httpx.post(view["urls"]["github"], content=body, headers=signed)
    assert old.status_code == 401
    fresh = signature(json.loads(rotated.stdout)["secret"], body)
    accepted = httpx.post(
        view["urls"]["github"], content=body, headers={**signed, "X-Hub-Signature-256": fresh}
    )
    assert accepted.status_code == 200 and accepted.json()["commits"] == []
    not_bare = setup.cli("vcs", "install-hook", str(setup.work))
    assert not_bare.returncode != 0 and "not a bare git repository" in not_bare.stderr
    assert not (setup.work / ".git" / "hooks" / "post-receive").exists()
    foreign = setup.origin / "hooks" / "post-receive"
    foreign.write_text("#!/bin/sh\necho mine\n")
    refused = setup.cli("vcs", "install-hook", str(setup.origin))
    assert refused.returncode != 0 and "--force" in refused.stderr
    assert foreign.read_text() == "#!/bin/sh\necho mine\n"
    forced = setup.cli("vcs", "install-hook", str(setup.origin), "--force")
    assert forced.returncode == 0 and "aichor post-receive hook" in foreign.read_text()
