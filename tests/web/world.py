"""Data for the browser tests, made through the API (as users would) or, for a second
organisation (no API creates one), through the services on the server's own database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from aichor.db import tables
from aichor.db.session import make_engine, session
from aichor.services.access import ORG_ADMIN
from aichor.services.accounts import hash_password
from aichor.settings import Settings
from tests.pipeline.conftest import tar_of, write_repo
from tests.pipeline.servers import Server, wait_for

MANIFEST = "aichor/manifest.yaml"
PASSWORD = "a long enough password"  # noqa: S105 - a test password


def submit(
    client: httpx.Client,
    repo: Path,
    command: str,
    *,
    cpus: float = 0.25,
    count: int = 1,
    files: dict[str, str] | None = None,
) -> str:
    """An experiment from a working tree (archive), as `aichor experiments submit local` does."""
    write_repo(repo, command=command, cpus=cpus, count=count, files=files)
    response = client.post(
        "/api/projects/default/experiments",
        data={"manifest_path": MANIFEST, "message": repo.name},
        files={"archive": ("source.tar.gz", tar_of(repo), "application/gzip")},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def invite(client: httpx.Client, email: str) -> str:
    """An invitation to the default project as a User; the link the admin would send."""
    project = client.get("/api/projects/default").json()
    response = client.post(
        "/api/invitations", json={"email": email, "roles": ["User"], "project_ids": [project["id"]]}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["link"])


def sign_in(page: Page, base_url: str, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base_url}/experiments")


def other_organisation(server: Server, email: str) -> None:
    """An organisation `rival` with its own admin `email`, project and engine."""
    settings = Settings(
        home=Path(server.env["AICHOR_HOME"]), database_url=server.env["AICHOR_DATABASE_URL"]
    )
    engine = make_engine(settings)
    with session(engine) as db:
        organisation = tables.Organisation(name="rival")
        user = tables.User(email=email, password_hash=hash_password(PASSWORD))
        db.add_all([organisation, user])
        db.flush()
        db.add(
            tables.Membership(organisation_id=organisation.id, user_id=user.id, roles=[ORG_ADMIN])
        )
        local = tables.Engine(
            organisation_id=organisation.id, name="rival-local", kind="local", cpus=1, memory_gib=1
        )
        db.add(local)
        db.flush()
        db.add(
            tables.Project(
                organisation_id=organisation.id, name="rival-project", default_engine_id=local.id
            )
        )
        db.commit()
    engine.dispose()


def wait_api(
    client: httpx.Client, experiment_id: str, until: Any, timeout: float = 120
) -> dict[str, Any]:
    return wait_for(client, experiment_id, until, timeout)
