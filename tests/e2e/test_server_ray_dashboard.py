"""A real server runs a kuberay experiment (a head and one worker; the driver waits for a file
the test creates) and serves its Ray dashboard under the experiment's URL: the dashboard's
state API lists the head and the worker, its web page and every script and stylesheet the
page loads come through the proxy, and in headless Chromium (when `chromium` is installed) the
app renders both nodes with every request it makes under the prefix (decision 125); an
anonymous caller gets 401 and another organisation's user 404, and once the experiment ended
the route answers 404.

SQLite only: the proxy reads one experiment row per request through the same access check
that the other API tests run on PostgreSQL too; a second Ray cluster would add a minute and
no coverage. The experiment reuses the `examples/kuberay` Dockerfile and requirements.txt,
so its environment is the one the example tests cache in the shared build cache.
"""

from __future__ import annotations

import shutil
import time
import warnings
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from aichor.db.session import make_engine, session
from aichor.services.tokens import issue_token
from aichor.settings import Settings
from tests.api.world import make_member, make_org
from tests.conftest import EXAMPLES
from tests.pipeline.servers import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    post_archive,
    running_server,
    wait_for,
)

MANIFEST = """\
kind: AIchorManifest
apiVersion: 0.2.3
builder: {image: ray-wait, dockerfile: ./Dockerfile, context: .}
spec:
  operator: kuberay
  image: ray-wait
  command: python -m ray_wait %s
  types:
    Head: {resources: {cpus: 1, ramRatio: 2}}
    Workers:
      - {name: cpu-workers, count: 1, resources: {cpus: 1, ramRatio: 2}}
"""
DRIVER = """\
import pathlib, sys, time
stop = pathlib.Path(sys.argv[1])
while not stop.exists():
    time.sleep(0.2)
"""


CHROMIUM = shutil.which("chromium")
# As this machine's notes advise: no background traffic to a network that refuses it.
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run",
                  "--disable-quic"]  # fmt: skip


class _Assets(HTMLParser):
    """The scripts, stylesheets and icons a browser would load for a page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script" and found.get("src"):
            self.urls.append(str(found["src"]))
        if tag == "link" and found.get("href"):
            self.urls.append(str(found["href"]))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[httpx.Client, str]]:
    """A logged-in client of a fresh server, and a token of another organisation's admin."""
    home = tmp_path / "home"
    with running_server("sqlite", home) as (_, client):
        engine = make_engine(Settings(home=home, database_url=f"sqlite:///{home / 'aichor.db'}"))
        with session(engine) as db:
            outsider = make_member(db, make_org(db, "elsewhere"), "out@example.com", ["User"])
            _, outsider_token = issue_token(db, outsider, name="outsider")
        engine.dispose()
        client.timeout = httpx.Timeout(60)
        yield client, outsider_token


def _submit(client: httpx.Client, repo: Path, stop: Path) -> str:
    (repo / "aichor").mkdir(parents=True)
    (repo / "src").mkdir()
    for name in ("Dockerfile", "requirements.txt"):
        shutil.copy(EXAMPLES / "kuberay" / name, repo / name)
    (repo / "aichor" / "manifest.yaml").write_text(MANIFEST % stop)
    (repo / "src" / "ray_wait.py").write_text(DRIVER)
    return post_archive(client, repo)


def _alive_nodes(client: httpx.Client, prefix: str, timeout: float = 120) -> list[Any]:
    """The cluster's alive nodes from the dashboard's state API, once the worker joined."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        answer = client.get(f"{prefix}/api/v0/nodes")
        last = answer.status_code, answer.text[:300]
        if answer.status_code == 200:
            nodes = [n for n in answer.json()["data"]["result"]["result"] if n["state"] == "ALIVE"]
            if len(nodes) == 2:
                return nodes
        time.sleep(0.5)
    experiment = client.get(prefix.removesuffix("/ray-dashboard")).json()
    tail = client.get(f"{prefix.removesuffix('/ray-dashboard')}/logs", params={"limit": 10_000})
    lines = [f"{x['source']}: {x['text']}" for x in tail.json().get("lines", [])][-30:]
    raise AssertionError(
        f"the dashboard did not list two nodes in {timeout}s: {last}; experiment "
        f"{experiment.get('status')} {experiment.get('failure_reason')!r}; last lines: {lines}"
    )


@pytest.mark.slow
def test_ray_dashboard_through_the_proxy(server: tuple[httpx.Client, str], tmp_path: Path) -> None:
    client, outsider_token = server
    stop = tmp_path / "stop"
    experiment_id = _submit(client, tmp_path / "repo", stop)
    prefix = f"/api/experiments/{experiment_id}/ray-dashboard"
    try:
        running = wait_for(client, experiment_id, lambda e: e["current_step"] == "Running", 600)
        assert running["ray_dashboard_url"] == f"{prefix}/"

        nodes = _alive_nodes(client, prefix)
        heads = [n for n in nodes if n["is_head_node"]]
        workers = [n for n in nodes if not n["is_head_node"]]
        assert len(heads) == 1 and len(workers) == 1, nodes
        assert "head" in heads[0]["resources_total"]
        assert "cpu-workers" in workers[0]["resources_total"]

        # The page as a browser loads it: from the folder URL the bare route redirects to.
        redirect = client.get(prefix)
        assert redirect.status_code in {307, 308}
        page_url = f"{client.base_url}{redirect.headers['location']}"
        page = client.get(page_url)
        assert page.status_code == 200 and "Ray Dashboard" in page.text
        assert len(page.headers.get_list("date")) == 1  # the dashboard's own is dropped
        assets = _Assets()
        assets.feed(page.text)
        scripts = [u for u in assets.urls if u.endswith((".js", ".css"))]
        assert len(scripts) >= 2, assets.urls  # the app's main script and stylesheet
        for reference in assets.urls:
            url = urljoin(page_url, reference)
            assert urlsplit(url).path.startswith(f"{prefix}/"), reference
            asset = client.get(url)
            assert asset.status_code == 200 and asset.content, (reference, asset.status_code)
        # The app calls its API relative to the page ("api/version"), so under the prefix too.
        version = client.get(urljoin(page_url, "api/version"))
        assert version.status_code == 200 and "ray_version" in version.json()

        if CHROMIUM:
            _browse(str(client.base_url), prefix, [heads[0]["node_id"], workers[0]["node_id"]])
        else:
            warnings.warn(
                "no chromium: the Ray dashboard was not checked in a browser", stacklevel=1
            )

        anonymous = httpx.get(f"{client.base_url}{prefix}/api/v0/nodes")
        assert anonymous.status_code == 401
        outsider = httpx.get(
            f"{client.base_url}{prefix}/api/v0/nodes",
            headers={"Authorization": f"Bearer {outsider_token}"},
        )
        assert outsider.status_code == 404
    finally:
        stop.touch()
    done = wait_for(client, experiment_id, timeout=120)
    assert done["status"] == "Succeeded", done
    assert done["ray_dashboard_url"] is None
    assert client.get(f"{prefix}/api/version").status_code == 404


def _browse(base: str, prefix: str, node_ids: list[str]) -> None:
    """Open the dashboard in headless Chromium as a user would (session cookie, bare URL):
    the app renders both nodes on its Cluster page, and every request it makes stays under
    the experiment's prefix and gets an answer (Ray's own 500s for its absent Grafana and
    Prometheus included)."""
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            context = browser.new_context(base_url=base)
            login = {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
            assert context.request.post("/api/auth/session", data=login).ok
            page = context.new_page()
            page.on("request", lambda request: requests.append(request.url))
            page.on("requestfailed", lambda request: problems.append(request.url))
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.goto(f"{base}{prefix}")
            page.goto(f"{base}{prefix}/#/cluster")
            for node_id in node_ids:
                page.get_by_text(node_id).first.wait_for(timeout=60_000)
        finally:
            browser.close()
    assert problems == []
    paths = [urlsplit(url).path for url in requests]
    outside = [path for path in paths if path != prefix and not path.startswith(f"{prefix}/")]
    assert outside == []
    assert any("/static/js/" in url for url in requests), requests
