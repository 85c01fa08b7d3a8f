"""The `/api/experiments/{id}/ray-dashboard/` route on the in-process app (sqlite|postgresql):
503 until the Ray head recorded its dashboard, then the dashboard's answers with its redirects
kept under the prefix and its own `Date`/`Server`/`Set-Cookie` headers dropped; 404 for other
operators, other organisations and ended experiments, 401 without credentials.

The dashboard here is a small HTTP server on 127.0.0.1 that answers like Ray's (a page, an API
route, a redirect to an absolute path): a real Ray head takes ~15 s to start and is exercised
end to end by `tests/e2e/test_server_ray_dashboard.py`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from aichor.db import tables
from aichor.db.session import Session
from aichor.lifecycle import ExperimentStatus, Step
from aichor.settings import Settings
from tests.api.conftest import TestClient
from tests.api.world import World

WORKLOAD = "experiment-raydash-0001"


class _RayLike(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/logs":
            self.send_response(301)
            self.send_header("Location", "/logs/")
            self.end_headers()
            return
        body = json.dumps({"path": self.path, "auth": self.headers.get("Authorization")})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Set-Cookie", "ray=1; Path=/")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def ray_like() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RayLike)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _kuberay(db: Session, world: World, status: ExperimentStatus) -> str:
    experiment = db.get(tables.Experiment, world.ids["experiment"])
    assert experiment is not None
    experiment.operator = "kuberay"
    experiment.status = status.value
    experiment.current_step = (
        Step.RUNNING.value if status == ExperimentStatus.PROCESSING else Step.COMPLETED.value
    )
    experiment.workload_name = WORKLOAD
    db.commit()
    return experiment.id


def test_ray_dashboard_is_proxied_while_the_head_runs(
    client: TestClient, world: World, db: Session, app_settings: Settings, ray_like: str
) -> None:
    experiment_id = _kuberay(db, world, ExperimentStatus.PROCESSING)
    prefix = f"/api/experiments/{experiment_id}/ray-dashboard"
    user = world.headers("project_user")
    folder = app_settings.runs_dir / WORKLOAD
    folder.mkdir(parents=True, exist_ok=True)

    waiting = client.get(f"{prefix}/api/version", headers=user)
    assert waiting.status_code == 503
    assert "not up yet" in waiting.json()["detail"]["message"]

    (folder / "endpoints.json").write_text(json.dumps({"ray-dashboard": ray_like}))
    answer = client.get(f"{prefix}/api/v0/nodes?limit=5", headers=user)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"path": "/api/v0/nodes?limit=5", "auth": None}
    assert "set-cookie" not in answer.headers
    assert "BaseHTTP" not in answer.headers.get("server", "")  # ours, not the dashboard's
    moved = client.get(f"{prefix}/logs", headers=user, follow_redirects=False)
    assert moved.status_code == 301 and moved.headers["location"] == f"{prefix}/logs/"
    root = client.get(prefix, headers=user, follow_redirects=False)
    assert root.headers["location"] == f"{prefix}/"
    view = client.get(f"/api/experiments/{experiment_id}", headers=user).json()
    assert view["ray_dashboard_url"] == f"{prefix}/"

    assert client.get(f"{prefix}/api/version").status_code == 401
    for persona in ("outsider", "other_user"):
        refused = client.get(f"{prefix}/api/version", headers=world.headers(persona))
        assert refused.status_code == 404, persona

    (folder / "outcome.json").write_text("{}")  # the supervisor's mark that the run ended
    assert client.get(f"{prefix}/api/version", headers=user).status_code == 503


def test_no_ray_dashboard_for_ended_or_other_experiments(
    client: TestClient, world: World, db: Session, app_settings: Settings, ray_like: str
) -> None:
    experiment_id = _kuberay(db, world, ExperimentStatus.SUCCEEDED)
    folder = app_settings.runs_dir / WORKLOAD
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "endpoints.json").write_text(json.dumps({"ray-dashboard": ray_like}))
    prefix = f"/api/experiments/{experiment_id}/ray-dashboard"
    user = world.headers("project_user")

    ended = client.get(f"{prefix}/api/version", headers=user)
    assert ended.status_code == 404 and "ended" in ended.json()["detail"]["message"]
    assert (
        client.get(f"/api/experiments/{experiment_id}", headers=user).json()["ray_dashboard_url"]
        is None
    )

    experiment = db.get(tables.Experiment, experiment_id)
    assert experiment is not None
    experiment.operator = "jobset"
    experiment.status = ExperimentStatus.PROCESSING.value
    db.commit()
    other = client.get(f"{prefix}/api/version", headers=user)
    assert other.status_code == 404 and "not a kuberay" in other.json()["detail"]["message"]
