"""The account and admin pages in a real browser: tokens shown once and revocable; invitations,
sensitive variables and usage export for admins; 403/404 pages; CSRF on forms; keyboard-only
sign-in and a label on every control."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from tests.pipeline.servers import ADMIN_EMAIL, ADMIN_PASSWORD, Server
from tests.web.history import add_history
from tests.web.world import invite, sign_in

NewPage = Callable[[], Page]
UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
  .filter((c) => !c.labels?.length && !c.getAttribute('aria-label') && !c.closest('.xterm'))
  .map((c) => c.outerHTML)"""


def test_api_token_is_shown_once_then_revoked(
    live: tuple[Server, httpx.Client], new_page: NewPage
) -> None:
    server, _admin = live
    page = new_page()
    sign_in(page, server.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    page.goto(f"{server.url}/profile")
    page.get_by_label("Token name").fill("laptop")
    page.get_by_role("button", name="Create token").click()
    token = page.get_by_label("New token").input_value()
    assert token.startswith("aichor_")
    me = httpx.get(f"{server.url}/api/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["email"] == ADMIN_EMAIL
    page.goto(f"{server.url}/profile")
    expect(page.locator("body")).not_to_contain_text(token)
    page.get_by_role("button", name="Revoke token laptop").click()
    expect(page.get_by_role("cell", name="laptop")).to_have_count(0)
    gone = httpx.get(f"{server.url}/api/me", headers={"Authorization": f"Bearer {token}"})
    assert gone.status_code == 401
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{server.url}/login")
    page.goto(f"{server.url}/profile")
    expect(page).to_have_url(re.compile(r"/login\?next=/profile$"))


def test_admin_pages(live: tuple[Server, httpx.Client], new_page: NewPage) -> None:
    server, _admin = live
    page = new_page()
    sign_in(page, server.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    page.goto(f"{server.url}/admin/members")
    page.get_by_label("E-mail").fill("carol@example.com")
    page.get_by_label("default").check()
    page.get_by_role("button", name="Invite").click()
    link = page.get_by_label("Invitation link").input_value()
    assert "/invitations/accept?token=" in link
    expect(page.get_by_role("cell", name="carol@example.com")).to_be_visible()

    page.goto(f"{server.url}/admin/projects/default")
    page.get_by_label("Name", exact=True).fill("HF_TOKEN")
    page.get_by_label("Value").fill("hf-very-secret")
    page.get_by_label("Sensitive").check()
    page.get_by_role("button", name="Set variable").click()
    expect(page.get_by_role("cell", name="HF_TOKEN", exact=True)).to_be_visible()
    assert "hf-very-secret" not in page.content()
    page.get_by_role("link", name="Show the webhook URLs and secret").click()
    github = page.get_by_label("Webhook URL for github").input_value()
    assert github.startswith(server.url) and "/api/webhooks/github/" in github
    assert len(page.get_by_label("Webhook secret").input_value()) >= 32

    page.goto(f"{server.url}/admin/usage?group_by=user")
    expect(page.get_by_role("heading", name="Usage and cost")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    csv = download.value.path().read_text()
    assert csv.splitlines()[0].startswith("user,name,experiments,cpu_hours")

    page.goto(f"{server.url}/admin/engines")
    page.get_by_label("Name").fill("gpu-box")
    page.get_by_label("CPUs").fill("32")
    page.get_by_label("Memory (GiB)").fill("256")
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("row", name="gpu-box")).to_contain_text("256 GiB")


def test_error_pages_roles_and_csrf(live: tuple[Server, httpx.Client], new_page: NewPage) -> None:
    server, admin = live
    page = new_page()
    link = invite(admin, "dave@example.com")
    token = link.split("token=", 1)[1]
    accepted = admin.post(
        "/api/invitations/accept", json={"token": token, "password": "dave's password"}
    )
    assert accepted.status_code == 200, accepted.text
    sign_in(page, server.url, "dave@example.com", "dave's password")
    response = page.goto(f"{server.url}/admin/members")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
    response = page.goto(f"{server.url}/no/such/page")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    assert httpx.get(f"{server.url}/api/nothing").json()["detail"]["message"]

    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    forged = httpx.post(
        f"{server.url}/profile/tokens", data={"name": "x"}, cookies=cookies, follow_redirects=False
    )
    assert forged.status_code == 403
    for target in ("//evil.example/x", "https://evil.example", "/\\evil.example"):
        answer = httpx.post(
            f"{server.url}/login",
            data={"email": "dave@example.com", "password": "dave's password", "next": target},
            follow_redirects=False,
        )
        assert answer.headers["location"] == "/experiments", target
    anonymous = httpx.get(f"{server.url}/experiments", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")


def test_keyboard_only_and_labelled_controls(
    live: tuple[Server, httpx.Client], new_page: NewPage
) -> None:
    server, _admin = live
    page = new_page()
    page.goto(f"{server.url}/login")
    page.keyboard.type(ADMIN_EMAIL)  # the e-mail field has the focus on arrival
    page.keyboard.press("Tab")
    page.keyboard.type(ADMIN_PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{server.url}/experiments")
    for path in (
        "/experiments",
        "/profile",
        "/admin/members",
        "/admin/projects",
        "/admin/projects/default",
        "/admin/engines",
        "/admin/usage",
        "/datasets",
    ):
        page.goto(f"{server.url}{path}")
        assert page.evaluate(UNLABELLED) == [], path


def test_keyset_pages_and_filters(live: tuple[Server, httpx.Client], new_page: NewPage) -> None:
    server, admin = live
    add_history(server.env["AICHOR_DATABASE_URL"], count=75)
    total = len(
        admin.get("/api/projects/default/experiments", params={"limit": 200}).json()["items"]
    )
    page = new_page()
    sign_in(page, server.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    rows = page.locator("tr[data-experiment]")
    expect(rows).to_have_count(50)
    first_page = set(rows.evaluate_all("rows => rows.map(r => r.dataset.experiment)"))
    page.get_by_role("link", name="Older »").click()
    expect(rows).to_have_count(total - 50)
    second_page = set(rows.evaluate_all("rows => rows.map(r => r.dataset.experiment)"))
    assert not first_page & second_page
    page.get_by_role("link", name="« Newest").click()
    expect(rows).to_have_count(50)
    page.get_by_label("Status").select_option("Failed")  # submits by itself
    expect(page).to_have_url(re.compile(r"status=Failed"))
    assert rows.count() > 0
    expect(rows.locator(".badge")).to_have_text(["Failed"] * rows.count())
    page.get_by_label("Branch").fill("exp/vit-b16")
    page.get_by_role("button", name="Apply").click()
    for branch in rows.locator("td:nth-child(3)").all_inner_texts():
        assert branch == "exp/vit-b16"


def test_datasets_upload_download_copy_delete_and_keys(
    live: tuple[Server, httpx.Client], new_page: NewPage, tmp_path: Path
) -> None:
    server, _admin = live
    page = new_page()
    sign_in(page, server.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    page.get_by_role("link", name="Datasets").click()
    expect(page.get_by_text("Nothing here yet")).to_be_visible()
    data = tmp_path / "labels.csv"
    data.write_bytes(b"image,label\ncat.png,cat\n" * 1000)
    page.get_by_label("Folder", exact=True).fill("train")
    page.get_by_label("File", exact=True).set_input_files(str(data))
    page.get_by_role("button", name="Upload").click()
    row = page.locator('tr[data-key="train/labels.csv"]')
    expect(row).to_contain_text("23.4 KiB")
    path = row.get_by_label("Path of train/labels.csv", exact=True).input_value()
    assert path.startswith("s3://") and path.endswith("/train/labels.csv")
    with page.expect_download() as download:
        row.get_by_role("link", name="Download train/labels.csv").click()
    assert download.value.path().read_bytes() == data.read_bytes()
    with page.expect_download() as keys:
        page.get_by_role("button", name="Download new access keys").click()
    assert "AWS_SECRET_ACCESS_KEY=" in keys.value.path().read_text()
    row.get_by_role("button", name="Delete train/labels.csv").click()
    expect(page.locator('tr[data-key="train/labels.csv"]')).to_have_count(0)
