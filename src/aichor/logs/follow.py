"""Waking log followers when a stream grows, cheaply however many followers there are.

A follower (an SSE response, see `services.logs`) awaits `wait_for_growth(path, size)`. Per
event loop there is one watch: it stats every followed file once per `POLL_SECONDS` (for lines
appended by another process, e.g. `aichor worker`) and is told at once, through `announce`, of
lines appended by this process's `LogStore`. Followers of the same file share one stat and one
event, so a thousand followers of an experiment cost what one does.

Callers: `logs.store` (announce), `services.logs` (wait_for_growth).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from dataclasses import dataclass, field
from pathlib import Path

POLL_SECONDS = 0.05
"""How often a followed file is stat'ed for appends made by other processes."""


@dataclass
class _Watched:
    size: int
    event: asyncio.Event = field(default_factory=asyncio.Event)
    waiters: int = 0


class _LoopWatch:
    """The followed files of one event loop and the task that polls them."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = weakref.ref(loop)  # the registry is keyed weakly by the loop
        self.files: dict[Path, _Watched] = {}
        self.task: asyncio.Task[None] | None = None

    def check(self, folder: Path | None = None) -> None:
        """Wake the followers of files that grew (only those under `folder` when given)."""
        for path, watched in list(self.files.items()):
            if folder is not None and path.parent != folder:
                continue
            try:
                size = path.stat().st_size
            except FileNotFoundError:
                size = 0  # not written yet, or deleted (purged: the end check notices)
            if size != watched.size:
                watched.size = size
                watched.event.set()
                watched.event = asyncio.Event()

    async def poll(self) -> None:
        while self.files:
            self.check()
            await asyncio.sleep(POLL_SECONDS)
        self.task = None


_watches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopWatch] = (
    weakref.WeakKeyDictionary()
)
_watches_lock = threading.Lock()


async def wait_for_growth(path: Path, size: int, seconds: float) -> None:
    """Return when `path` is no longer `size` bytes long (grown, cut or deleted) or after
    `seconds`."""
    loop = asyncio.get_running_loop()
    with _watches_lock:
        watch = _watches.setdefault(loop, _LoopWatch(loop))
    watched = watch.files.setdefault(path, _Watched(size=size))
    watched.size = size
    watched.waiters += 1
    event = watched.event
    if watch.task is None:
        watch.task = loop.create_task(watch.poll())
    try:
        watch.check(path.parent)  # it may have grown before we started waiting
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)
    finally:
        watched.waiters -= 1
        if watched.waiters == 0 and watch.files.get(path) is watched:
            del watch.files[path]


def announce(folder: Path) -> None:
    """Called after an append under `folder`: wake this process's followers now (any thread)."""
    with _watches_lock:
        watches = list(_watches.values())
    for watch in watches:
        loop = watch.loop()
        if loop is not None and any(path.parent == folder for path in list(watch.files)):
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(watch.check, folder)
