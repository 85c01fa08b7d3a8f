"""The dashboard in a real browser (Debian's Chromium, headless) against a real server.

One scenario, as a researcher lives it: invited, sets a password, signs in; watches an
experiment wait behind another, then succeed with its step widgets turning green while the
page stays loaded; reads a line the workload printed; opens a terminal in a running replica;
cancels an experiment. A user of another organisation sees none of it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from aichor.operators.base import short_name
from tests.pipeline.servers import Server
from tests.web.world import PASSWORD, invite, other_organisation, sign_in, submit, wait_api

NewPage = Callable[[], Page]

GREETING = "hello from the workload"


def test_researcher_day(
    live: tuple[Server, httpx.Client], new_page: NewPage, tmp_path: Path
) -> None:
    server, admin = live
    engine = admin.get("/api/engines").json()[0]
    # One CPU: the blocker holds it, so the next experiment waits in the queue.
    assert admin.patch(f"/api/engines/{engine['name']}", json={"cpus": 1}).status_code == 200
    blocker = submit(
        admin,
        tmp_path / "blocker",
        "python -c \"print('started', flush=True); import time; time.sleep(600)\"",
        cpus=1,
    )
    wait_api(admin, blocker, lambda e: any(r["status"] == "Running" for r in e["replicas"]))
    target = submit(admin, tmp_path / "target", f"python -c \"print('{GREETING}')\"")

    page = new_page()
    link = invite(admin, "bob.builder@example.com")
    page.goto(link)
    page.get_by_label("Your name").fill("Bob Builder")
    page.get_by_label("Password (at least 8 characters)").fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Join").click()
    expect(page.get_by_role("status")).to_contain_text("Your password is set")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{server.url}/experiments")

    row = page.locator(f'tr[data-experiment="{target}"]')
    expect(row.locator(".badge")).to_have_text("Waiting")
    expect(row.locator('.widget[data-step="Cloning"]')).to_have_attribute("data-state", "paused")
    page.evaluate("window.stillTheSamePage = true")

    # The terminal of the blocker's running replica answers with the experiment's id.
    terminal = new_page()
    sign_in(terminal, server.url, "bob.builder@example.com")
    terminal.goto(f"{server.url}/experiments/{blocker}?tab=terminal")
    terminal.get_by_role("button", name="Open terminal").click()
    screen = terminal.locator(".xterm-rows")
    expect(screen).to_contain_text(re.compile(r"[#$]"), timeout=30_000)  # the shell's prompt
    terminal.keyboard.type("echo $AICHOR_EXPERIMENT_ID\n")
    expect(screen).to_contain_text(blocker, timeout=30_000)

    # Its resource charts (sampled every 5 s while it runs) draw one line per replica.
    terminal.goto(f"{server.url}/experiments/{blocker}?tab=metrics")
    cpu = terminal.get_by_role("img", name="CPU cores in use per replica")
    expect(cpu.locator(".u-legend")).to_contain_text(
        f"{short_name(blocker)}-worker-0-0", timeout=60_000
    )

    # Cancelling the blocker from its page frees the engine for the target.
    terminal.goto(f"{server.url}/experiments/{blocker}")
    terminal.get_by_role("button", name="Cancel").click()
    expect(terminal.locator("#experiment-status")).to_have_text("Cancelled", timeout=60_000)

    expect(row.locator(".badge")).to_have_text("Succeeded", timeout=120_000)
    expect(row.locator('.widget[data-state="done"]')).to_have_count(5)
    assert page.evaluate("window.stillTheSamePage") is True  # updated live, never reloaded
    blocker_row = page.locator(f'tr[data-experiment="{blocker}"]')
    expect(blocker_row.locator(".badge")).to_have_text("Cancelled")

    row.get_by_role("link").first.click()
    page.locator("summary", has_text="Building log").click()  # each step's log, on the page
    expect(page.get_by_role("log", name="Building log lines (UTC)")).to_contain_text("image local:")
    page.get_by_role("link", name="Logs").click()
    log = page.get_by_role("log")
    expect(log).to_contain_text(GREETING)
    page.get_by_label("Search").fill("from the work")
    expect(page.locator(".log-count")).to_contain_text("1 of")
    page.get_by_label("Search").fill("")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download").click()
    assert GREETING in download.value.path().read_text()
    page.get_by_label("Source").select_option(label="Building step")
    expect(log).to_contain_text("image local:")
    expect(log).not_to_contain_text(GREETING)
    page.get_by_label("Source").select_option(index=1)  # the one replica
    expect(log).to_contain_text(GREETING)

    page.get_by_role("link", name="Manifest").click()
    expect(page.locator(".files")).to_contain_text("aichor/manifest.yaml")
    expect(page.locator("pre.code")).to_contain_text("operator: jobset")

    page.get_by_role("button", name="Resubmit").click()
    expect(page).not_to_have_url(re.compile(target))
    expect(page.locator("#experiment-status")).to_have_text("Succeeded", timeout=120_000)


def test_other_organisation_sees_nothing(
    live: tuple[Server, httpx.Client], new_page: NewPage, tmp_path: Path
) -> None:
    server, admin = live
    secret = submit(admin, tmp_path / "secret", "python -c \"print('a secret line')\"")
    other_organisation(server, "eve@rival.example.com")
    page = new_page()
    sign_in(page, server.url, "eve@rival.example.com")
    expect(page.get_by_label("Project", exact=True)).to_have_text("rival-project")
    expect(page.locator("tbody")).to_contain_text("No experiments here yet")
    for path in (
        f"/experiments/{secret}",
        f"/experiments/{secret}/logs/lines",
        "/experiments?project=default",
    ):
        response = page.goto(f"{server.url}{path}")
        assert response is not None and response.status == 404, path
        expect(page.locator("body")).not_to_contain_text("a secret line")
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    said = page.evaluate(
        """(path) => new Promise((resolve) => {
            const socket = new WebSocket(`ws://${location.host}${path}`);
            socket.binaryType = "arraybuffer";
            let text = "";
            socket.onmessage = (e) => { text += new TextDecoder().decode(e.data); };
            socket.onclose = () => resolve(text);
        })""",
        f"/experiments/{secret}/terminal/anything",
    )
    assert "not found" in said
