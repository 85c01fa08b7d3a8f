"""Browser fixtures: a real `aichor server` (SQLite, two pipeline workers) and Debian's
Chromium driven headless by Playwright (`make browser` installs it; never a downloaded build).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.pipeline.servers import Server, database_url, free_port, login, server_env

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, httpx.Client]]:
    """The server and an API client logged in as its first admin."""
    home = tmp_path_factory.mktemp("web") / "home"
    home.mkdir(parents=True)
    with database_url("sqlite", home) as url:
        server = Server(server_env(home, url, free_port()), home / "server.log").start()
        try:
            with httpx.Client(base_url=server.url, timeout=30) as client:
                login(client)
                yield server, client
        finally:
            server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: run `make browser` (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield launched
        launched.close()


@pytest.fixture
def new_page(browser: Browser) -> Iterator[object]:
    """A factory of pages, each in its own browser context (its own cookies)."""
    contexts = []

    def make() -> Page:
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        context.set_default_timeout(30_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
