"""`make screenshots`: PNGs of the dashboard's main pages, with realistic data, into a folder.

A real server on a fresh home; four people of one organisation submit commits of a real git
repository on several branches (succeeding, failing, cancelled, running and queued
experiments); then Debian's Chromium visits each page. Usage: python -m tests.web.screenshots DIR
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, sync_playwright

from tests.pipeline.conftest import write_repo
from tests.pipeline.servers import Server, database_url, free_port, login, server_env, wait_for
from tests.web.history import GPU, add_history
from tests.web.world import PASSWORD, sign_in

PEOPLE = ("ada.lovelace@acme.example", "alan.turing@acme.example", "grace.hopper@acme.example")
TRAIN = """\
import os, time
source = os.environ.get("AICHOR_INPUT_PATH", "-")
print("\\033[1;34mloading\\033[0m dataset shard 0/4 from", source, flush=True)
for epoch in range(1, 6):
    loss, accuracy = 1.9 / epoch, 0.52 + epoch * 0.08
    print(f"epoch {{epoch}}/5  loss={{loss:.4f}}  acc={{accuracy:.3f}}", flush=True)
    time.sleep({pause})
print("\\033[32mdone\\033[0m: checkpoint written to", os.environ.get("AICHOR_OUTPUT_PATH", "-"))
{tail}
"""


def main(target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        home = Path(scratch) / "home"
        home.mkdir()
        with database_url("sqlite", home) as url:
            server = Server(server_env(home, url, free_port(), workers=3), home / "server.log")
            server.start()
            try:
                with httpx.Client(base_url=server.url, timeout=60) as admin:
                    login(admin)
                    ids = _populate(admin, Path(scratch), url)
                    _shoot(server.url, target, ids)
                    admin.post(f"/api/experiments/{ids['running']}/cancel")
            finally:
                server.stop()


def _populate(admin: httpx.Client, scratch: Path, database: str) -> dict[str, str]:
    """Members, a repository with branches, priced usage and experiments in every state."""
    project = admin.get("/api/projects/default").json()
    clients = [admin]
    for email in PEOPLE:
        link = admin.post(
            "/api/invitations",
            json={"email": email, "roles": ["User"], "project_ids": [project["id"]]},
        ).json()["link"]
        token = link.split("token=", 1)[1]
        name = email.split("@")[0].replace(".", " ").title()
        admin.post(
            "/api/invitations/accept", json={"token": token, "password": PASSWORD, "name": name}
        )
        client = httpx.Client(base_url=str(admin.base_url), timeout=60)
        answer = client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        client.headers["Authorization"] = f"Bearer {answer.json()['token']}"
        clients.append(client)
    add_history(database)
    admin.put(
        "/api/organisation/prices",
        json={"cpu_hour": 0.048, "memory_gib_hour": 0.006, "gpu_hour": {GPU: 2.45}},
    )
    admin.post(
        "/api/projects/default/variables",
        json={"name": "WANDB_API_KEY", "value": "k-123", "sensitive": True},
    )
    admin.post("/api/projects/default/variables", json={"name": "DATA_VERSION", "value": "v7"})
    repo = scratch / "repo"
    admin.patch("/api/projects/default", json={"repository_url": repo.as_uri()})
    done = [
        ("main", clients[1], TRAIN.format(pause=0.2, tail=""), "baseline resnet50"),
        ("feature/mixup", clients[2], TRAIN.format(pause=0.2, tail=""), "mixup alpha=0.2"),
        ("main", clients[3], TRAIN.format(pause=0.1, tail="raise SystemExit(3)"), "lr warmup"),
        ("exp/large-batch", clients[1], TRAIN.format(pause=0.1, tail=""), "batch 1024"),
    ]
    finished = [_commit(c, repo, branch, command, message) for branch, c, command, message in done]
    for experiment_id in finished:
        wait_for(admin, experiment_id, timeout=300)
    cancelled = _commit(clients[2], repo, "feature/mixup", TRAIN.format(pause=30, tail=""), "cut")
    wait_for(admin, cancelled, lambda e: e["current_step"] == "Running", timeout=300)
    clients[2].post(f"/api/experiments/{cancelled}/cancel")
    running = _commit(clients[3], repo, "main", TRAIN.format(pause=200, tail=""), "long run")
    wait_for(admin, running, _has_running_replica, timeout=300)
    _upload_datasets(admin)
    _wait_for_samples(admin, running)
    return {"running": running, "succeeded": finished[0], "failed": finished[2]}


def _upload_datasets(admin: httpx.Client) -> None:
    files = {
        "imagenet-mini/train/labels.csv": b"image,label\n" + b"n01440764_10026.JPEG,0\n" * 4000,
        "imagenet-mini/val/labels.csv": b"image,label\n"
        + b"ILSVRC2012_val_00000001.JPEG,65\n" * 900,
        "imagenet-mini/README.md": b"# ImageNet mini\n\n100 classes, 260 images each.\n",
        "tokenizer/vocab.json": b'{"<pad>": 0, "<unk>": 1}' * 2000,
    }
    for key, data in files.items():
        stored = admin.put(f"/api/projects/default/storage/objects/input/{key}", content=data)
        stored.raise_for_status()


def _wait_for_samples(admin: httpx.Client, experiment_id: str, points: int = 4) -> None:
    """The running experiment's charts need a few samples (one every 5 s)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = admin.get(f"/api/experiments/{experiment_id}/metrics").json()
        if any(len(series["points"]) >= points for series in found["series"]):
            return
        time.sleep(1)


def _commit(client: httpx.Client, repo: Path, branch: str, command: str, message: str) -> str:
    write_repo(
        repo, command="python train.py", cpus=0.5, files={"train.py": f"# {message}\n{command}"}
    )
    git = ["git", "-C", str(repo)]
    if branch != "main":
        subprocess.run([*git, "branch", "-f", branch], check=True)
    sha = subprocess.run(
        [*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()
    response = client.post(
        "/api/projects/default/experiments",
        json={
            "commit_sha": sha,
            "branch": branch,
            "manifest_path": "aichor/manifest.yaml",
            "message": message,
        },
    )
    response.raise_for_status()
    return str(response.json()["id"])


def _has_running_replica(experiment: dict[str, Any]) -> bool:
    return any(r["status"] == "Running" for r in experiment["replicas"])


def _shoot(url: str, target: Path, ids: dict[str, str]) -> None:
    running, first = ids["running"], ids["succeeded"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True)
        page = browser.new_context(viewport={"width": 1360, "height": 820}).new_page()
        sign_in(page, url, "admin@example.com", "correct horse battery staple")
        _save(page, f"{url}/experiments", target / "experiments.png")
        _save(page, f"{url}/experiments/{first}?tab=logs", target / "experiment-logs.png", 1.5)
        _save(page, f"{url}/experiments/{ids['failed']}", target / "experiment-steps.png")
        _save(page, f"{url}/experiments/{running}?tab=replicas", target / "replicas.png")
        _save(page, f"{url}/experiments/{running}?tab=metrics", target / "metrics.png", 1.5)
        _save(page, f"{url}/datasets?prefix=imagenet-mini/", target / "datasets.png")
        _save(page, f"{url}/experiments/{first}?tab=manifest", target / "manifest.png")
        page.goto(f"{url}/experiments/{running}?tab=terminal")
        page.get_by_role("button", name="Open terminal").click()
        page.locator(".xterm-rows").get_by_text("#").first.wait_for()
        page.keyboard.type("env | grep ^AICHOR_ | sort; ls\n")
        time.sleep(1.5)
        page.screenshot(path=str(target / "terminal.png"))
        _save(page, f"{url}/admin/members", target / "admin-members.png")
        _save(page, f"{url}/admin/projects/default", target / "admin-project.png")
        _save(page, f"{url}/admin/engines", target / "admin-engines.png")
        _save(page, f"{url}/admin/usage?group_by=user", target / "usage.png", 0.5)
        browser.close()


def _save(page: Page, address: str, path: Path, settle: float = 0.3) -> None:
    page.goto(address)
    time.sleep(settle)
    page.screenshot(path=str(path), full_page=False)
    print(f"saved {path}", file=sys.stderr)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
