"""The proxied TensorBoard on the in-process app (sqlite|postgresql): a real TensorBoard
process is started on the first request and serves a scalar written to the experiment's
TensorBoard directory; anonymous, other-project and other-organisation callers are refused,
and a cookie session needs its CSRF token for a POST."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.summary.writer.event_file_writer import EventFileWriter

from aichor.dashboards.tensorboard import TensorBoards
from aichor.db import tables
from aichor.db.session import Session
from aichor.services import tokens
from aichor.settings import Settings
from aichor.storage import records
from tests.api.conftest import TestClient
from tests.api.world import World

MANIFEST = """\
kind: AIchorManifest
apiVersion: 0.2.3
builder: {image: tiny, dockerfile: ./Dockerfile, context: .}
spec:
  operator: jobset
  image: tiny
  command: python main.py
  tensorboard: {enabled: %s}
  types:
    worker: {count: 1, resources: {cpus: 1, ramRatio: 1}}
"""


@pytest.fixture
def tensorboard_app(app: FastAPI) -> Iterator[FastAPI]:
    """The module's app with TensorBoards of its own, all stopped at the end of the test."""
    app.state.tensorboards = TensorBoards()
    yield app
    app.state.tensorboards.close()


def _enable(db: Session, world: World, enabled: bool) -> str:
    experiment = db.get(tables.Experiment, world.ids["experiment"])
    assert experiment is not None
    experiment.manifest_text = MANIFEST % ("true" if enabled else "false")
    db.commit()
    return experiment.id


def _write_scalar(logdir: str, tag: str, values: list[float]) -> None:
    writer = EventFileWriter(logdir)
    for step, value in enumerate(values):
        summary = summary_pb2.Summary(
            value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)]
        )
        writer.add_event(event_pb2.Event(wall_time=time.time(), step=step, summary=summary))
    writer.close()


def test_scalar_through_the_proxy_and_who_may_see_it(
    tensorboard_app: FastAPI, client: TestClient, world: World, db: Session, app_settings: Settings
) -> None:
    experiment_id = _enable(db, world, True)
    project = db.get(tables.Project, world.ids["project"])
    assert project is not None
    dirs = records.experiment_dirs_for(db, app_settings, project, experiment_id)
    logdir = dirs.tensorboard / "run1"
    logdir.mkdir(parents=True)
    _write_scalar(str(logdir), "loss", [1.0, 0.5, 0.25])
    base = f"/api/experiments/{experiment_id}/tensorboard"
    url = f"{base}/data/plugin/scalars/scalars"
    query = {"run": "run1", "tag": "loss"}

    answer = client.get(url, params=query, headers=world.headers("project_user"))
    assert answer.status_code == 200, answer.text
    assert [point[2] for point in answer.json()] == [1.0, 0.5, 0.25]
    assert tensorboard_app.state.tensorboards.running() == [experiment_id]

    page = client.get(f"{base}/", headers=world.headers("project_user"))
    assert page.status_code == 200 and "<html" in page.text.lower()
    assert client.get(base, follow_redirects=False).headers["location"] == f"{base}/"

    assert client.get(url, params=query).status_code == 401
    for persona in ("outsider", "other_user"):
        refused = client.get(url, params=query, headers=world.headers(persona))
        assert refused.status_code == 404, persona
        assert "loss" not in refused.text


def test_cookie_session_post_needs_the_csrf_token(
    tensorboard_app: FastAPI, client: TestClient, world: World, db: Session, app_settings: Settings
) -> None:
    experiment_id = _enable(db, world, True)
    actor = world.actors["project_user"]
    _row, session_token = tokens.issue_token(db, actor, name="browser", kind=tokens.SESSION)
    db.commit()
    client.cookies.set("aichor_session", session_token)
    url = f"/api/experiments/{experiment_id}/tensorboard/data/plugin/scalars/scalars_multirun"
    form = {"tag": "loss", "runs": "run1"}
    read = client.get(f"/api/experiments/{experiment_id}/tensorboard/data/logdir")
    assert read.status_code == 200, read.text
    csrf = read.cookies.get("XSRF-TOKEN")  # offered to TensorBoard's Angular client
    assert csrf == tokens.csrf_token(app_settings.secret(), session_token)
    client.cookies.delete("XSRF-TOKEN")
    assert client.post(url, data=form).status_code == 403
    allowed = client.post(url, data=form, headers={"X-XSRF-TOKEN": csrf})
    assert allowed.status_code == 200, allowed.text


def test_no_tensorboard_unless_the_manifest_enables_it(
    tensorboard_app: FastAPI, client: TestClient, world: World, db: Session
) -> None:
    experiment_id = _enable(db, world, False)
    answer = client.get(
        f"/api/experiments/{experiment_id}/tensorboard/data/logdir",
        headers=world.headers("project_user"),
    )
    assert answer.status_code == 404
    assert "spec.tensorboard.enabled" in answer.json()["detail"]["message"]
    view = client.get(f"/api/experiments/{experiment_id}", headers=world.headers("project_user"))
    assert view.json()["tensorboard_url"] is None
    assert tensorboard_app.state.tensorboards.running() == []
    _enable(db, world, True)
    view = client.get(f"/api/experiments/{experiment_id}", headers=world.headers("project_user"))
    assert view.json()["tensorboard_url"] == f"/api/experiments/{experiment_id}/tensorboard/"
