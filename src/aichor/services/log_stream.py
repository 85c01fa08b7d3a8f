"""The live log stream: Server-Sent Events of one log stream from a byte offset to the end.

`services.logs.open_stream` checks access and the offset and hands back a `LogStream`; its
`events()` run after the route returned, with no session open. Each `lines` event carries the
lines after the previous event's id, and its id is the offset after them, so a client that
reconnects with `Last-Event-ID` (or `?after=`) misses nothing and repeats nothing.

Kept cheap for many followers (decision 110): they wait on `aichor.logs.follow` (one stat per
followed file per tick, not per follower); an encoded event is cached by (file, offset), so
followers at the same place (every live follower of an experiment) share one read and one
JSON encoding; whether the experiment ended is asked of the database at most once a second
per experiment in this process.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import anyio.to_thread
from sqlalchemy import select

from aichor.db import tables
from aichor.db.session import make_engine, session
from aichor.errors import InvalidInput
from aichor.lifecycle import TERMINAL_EXPERIMENT, ExperimentStatus
from aichor.logs import follow
from aichor.logs.store import LogStore
from aichor.settings import Settings

STREAM_BATCH = 5000
"""Lines per event at most (a follower catching up gets big events, a live one small)."""
KEEPALIVE_SECONDS = 15.0
END_CHECK_SECONDS = 1.0
_CACHED_EVENTS = 256


@dataclass(frozen=True)
class LogStream:
    """A follow of one stream, checked and positioned; `events()` is the SSE body."""

    settings: Settings
    experiment_id: str
    source: str | None
    after: int
    purged_at: datetime | None

    async def events(self) -> AsyncIterator[bytes]:
        """`lines` events (id = offset after them) until the experiment ended, then `end`."""
        yield b"retry: 1000\n\n"
        store = LogStore(self.settings.logs_dir)
        path = store.path(self.experiment_id, self.source)
        position, idle_since = self.after, time.monotonic()
        while self.purged_at is None:
            event, after = await self._next(store, path, position)
            if event is None:
                ended = await _ended(self.settings, self.experiment_id)
                # Read again after learning it ended: the last lines land before the end does.
                # The size seen before that read is what to wait beyond: a crash may have left
                # half a line at the end, which is no reason to wake up.
                seen = _size(path)
                event, after = await self._next(store, path, position)
                if event is None and ended:
                    break
            if event is not None:
                position, idle_since = after, time.monotonic()
                yield event
                continue
            if time.monotonic() - idle_since >= KEEPALIVE_SECONDS:
                idle_since = time.monotonic()
                yield b": keep-alive\n\n"
            await follow.wait_for_growth(path, seen, END_CHECK_SECONDS)
        purged = None if self.purged_at is None else self.purged_at.isoformat()
        body = {"lines": [], "next": position, "finished": True, "purged_at": purged}
        yield encode("end", body, event_id=position)

    async def _next(self, store: LogStore, path: Path, after: int) -> tuple[bytes | None, int]:
        """The next `lines` event and the offset after it (None: nothing new)."""
        cached = _events.get(path, after)
        if cached is not None:
            return cached
        return await anyio.to_thread.run_sync(self._read_event, store, path, after)

    def _read_event(self, store: LogStore, path: Path, after: int) -> tuple[bytes | None, int]:
        try:
            fields, end = store.read_fields(self.experiment_id, self.source, after, STREAM_BATCH)
        except InvalidInput:
            return None, after  # the log was purged (deleted) under the follower
        if not fields:
            return None, after
        body = {"lines": fields, "next": end, "finished": False}
        event = encode("lines", body, event_id=end)
        _events.put(path, after, event, end)
        return event, end


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


class _EventCache:
    """Encoded events by (file, start offset): a log only grows, so an event stays true."""

    def __init__(self) -> None:
        self._items: OrderedDict[tuple[Path, int], tuple[bytes, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, path: Path, after: int) -> tuple[bytes, int] | None:
        with self._lock:
            found = self._items.get((path, after))
            if found is not None:
                self._items.move_to_end((path, after))
            return found

    def put(self, path: Path, after: int, event: bytes, end: int) -> None:
        with self._lock:
            self._items[(path, after)] = (event, end)
            while len(self._items) > _CACHED_EVENTS:
                self._items.popitem(last=False)


_events = _EventCache()
_ended_cache: dict[str, tuple[float, bool]] = {}


async def _ended(settings: Settings, experiment_id: str) -> bool:
    """Whether the experiment ended; one query per experiment per `END_CHECK_SECONDS`."""
    checked = _ended_cache.get(experiment_id)
    now = time.monotonic()
    if checked is not None and (checked[1] or now - checked[0] < END_CHECK_SECONDS):
        return checked[1]
    ended = await anyio.to_thread.run_sync(_query_ended, settings, experiment_id)
    if len(_ended_cache) > 10_000:
        _ended_cache.clear()
    _ended_cache[experiment_id] = (now, ended)
    return ended


def _query_ended(settings: Settings, experiment_id: str) -> bool:
    with session(make_engine(settings)) as db:
        status = db.scalar(
            select(tables.Experiment.status).where(tables.Experiment.id == experiment_id)
        )
    return status is None or ExperimentStatus(status) in TERMINAL_EXPERIMENT


def encode(kind: str, body: object, *, event_id: int) -> bytes:
    data = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    return f"id: {event_id}\nevent: {kind}\ndata: {data}\n\n".encode()
