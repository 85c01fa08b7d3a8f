"""Waking followers: an append in this process wakes every follower of the file at once, an
append by another process is seen by the shared poll, and many followers share one watch."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from pathlib import Path

from aichor.logs import follow
from aichor.logs.store import LogStore

LONG = 30.0
"""A timeout no wake-up should get near: returning before it means the growth woke us."""


def test_an_append_in_this_process_wakes_a_hundred_followers(tmp_path: Path) -> None:
    store = LogStore(tmp_path, sync=False)
    store.append("exp", "Building", ["first"])
    path = store.path("exp", "Building")
    size = path.stat().st_size

    async def scenario() -> tuple[float, int]:
        started = time.monotonic()
        waiters = [
            asyncio.create_task(follow.wait_for_growth(path, size, LONG)) for _ in range(100)
        ]
        await asyncio.sleep(0.1)
        watched = sum(len(w.files) for w in list(follow._watches.values()))
        threading.Thread(target=store.append, args=("exp", "Building", ["second"])).start()
        await asyncio.gather(*waiters)
        return time.monotonic() - started, watched

    elapsed, watched = asyncio.run(scenario())
    assert elapsed < LONG / 2
    assert watched == 1  # one watched file for the hundred followers


def test_an_append_by_another_process_is_seen(tmp_path: Path) -> None:
    path = tmp_path / "replicas.log"
    path.write_bytes(b"")
    writer = "import sys, time; time.sleep(0.3); open(sys.argv[1], 'ab').write(b'x\\n')"

    async def scenario() -> float:
        started = time.monotonic()
        await follow.wait_for_growth(path, 0, LONG)
        return time.monotonic() - started

    child = subprocess.Popen([sys.executable, "-c", writer, str(path)])
    try:
        assert asyncio.run(scenario()) < LONG / 2
    finally:
        child.wait(10)
    assert path.read_bytes() == b"x\n"
