"""The log viewer on a long log, in a real browser against a real server (decision 134).

Two replicas print 10,000 numbered lines each (20,000 in the interleaved log), then a line a
second. The viewer opens at the tail and shows the new lines as they come (Server-Sent
Events); scrolling back to the top loads earlier lines down to the first, in the same page;
the page never holds more than a bounded window of line elements; the replica filter shows one
replica's lines only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
from playwright.sync_api import Locator, Page, expect

from tests.pipeline.servers import ADMIN_EMAIL, ADMIN_PASSWORD, Server
from tests.web.world import sign_in, submit, wait_api

NewPage = Callable[[], Page]

LINES_EACH = 10_000
WINDOW = 3000  # logs.js: line elements kept in the page at most
EMIT = f"""\
import sys, time
lines = (f"line {{n:05d}} \\x1b[32mok\\x1b[0m\\n" for n in range(1, {LINES_EACH + 1}))
sys.stdout.write("".join(lines))
sys.stdout.flush()
for n in range(1, 300):
    print(f"tick {{n}}", flush=True)
    time.sleep(0.5)
"""
ROWS = """element => [...element.querySelectorAll('.line')].map(
    (row) => [row.dataset.source, row.querySelector('.text').textContent])"""


def test_long_log_followed_and_scrolled_back(
    live: tuple[Server, httpx.Client], new_page: NewPage, tmp_path: Path
) -> None:
    server, admin = live
    experiment = submit(
        admin, tmp_path / "long", "python emit.py", count=2, files={"emit.py": EMIT}
    )
    found = wait_api(admin, experiment, lambda e: len(e["replicas"]) == 2)
    replicas = sorted(r["name"] for r in found["replicas"])

    page = new_page()
    sign_in(page, server.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    page.goto(f"{server.url}/experiments/{experiment}?tab=logs")
    page.evaluate("window.stillTheSamePage = true")
    log = page.get_by_role("log")
    # The tail, live: ticks keep arriving after the 20,000 lines without a reload.
    expect(log).to_contain_text("tick 3", timeout=60_000)
    expect(log).to_contain_text("tick 6")
    green = log.locator(".line", has_text="line 10000").first.locator(".ansi-green-fg")
    expect(green).to_have_text("ok")  # ANSI colours rendered as classes
    assert _rows(log) <= WINDOW

    # Back to the first line, page by page, in the same page and a bounded window.
    for _ in range(40):
        if log.get_attribute("data-top") == "0":
            break
        top = log.get_attribute("data-top")
        log.evaluate("element => { element.scrollTop = 0; }")
        expect(log).not_to_have_attribute("data-top", top or "")
        assert _rows(log) <= WINDOW
    assert log.get_attribute("data-top") == "0"
    # Each replica's lines from its first, none missing or twice across the pages joined.
    numbers = _numbers(log)
    assert numbers, "no workload line at the top of the log"
    for seen in numbers.values():
        assert seen == list(range(1, len(seen) + 1))
    assert sum(len(seen) for seen in numbers.values()) > 2000  # pages of 1,000 were joined
    expect(page.locator(".log-count")).to_contain_text("newer lines below")
    assert page.evaluate("window.stillTheSamePage") is True

    # Scrolling down again loads the later lines that were dropped, still joined up.
    for _ in range(3):
        bottom = log.get_attribute("data-bottom") or ""
        log.evaluate("element => { element.scrollTop = element.scrollHeight; }")
        expect(log).not_to_have_attribute("data-bottom", bottom)
        assert _rows(log) <= WINDOW
    for seen in _numbers(log).values():
        assert seen == list(range(seen[0], seen[0] + len(seen)))
    assert max(max(seen) for seen in _numbers(log).values()) > 3000

    # Following again jumps back to the tail, still live.
    page.locator(".log-follow").check()
    expect(log).to_contain_text("tick", timeout=10_000)
    ticks = _ticks(log)
    expect(log).to_contain_text(f"tick {max(ticks) + 2}")

    # One replica's lines only.
    page.get_by_label("Source").select_option(replicas[1])
    expect(log.locator(f'.line:not([data-source="{replicas[1]}"])')).to_have_count(0)
    expect(log).to_contain_text("tick")
    assert set(log.locator(".line .src").all_text_contents()) == {replicas[1]}
    assert _rows(log) <= WINDOW
    assert page.evaluate("window.stillTheSamePage") is True
    admin.post(f"/api/experiments/{experiment}/cancel").raise_for_status()


def _rows(log: Locator) -> int:
    return int(log.evaluate("element => element.querySelectorAll('.line').length"))


def _ticks(log: Locator) -> list[int]:
    texts = log.locator(".line .text").all_text_contents()
    return [int(text.split()[1]) for text in texts if text.startswith("tick ")]


def _numbers(log: Locator) -> dict[str, list[int]]:
    """Each replica's numbered lines in the window, in page order."""
    numbers: dict[str, list[int]] = {}
    for source, text in log.evaluate(ROWS):
        if text.startswith("line "):
            numbers.setdefault(source, []).append(int(text.split()[1]))
    return numbers
