"""Reading an experiment's logs: pages, a live stream (Server-Sent Events), a download.

Every entry point first checks that the actor may see the experiment (same organisation, a
project they use). Offsets are byte offsets of line starts in the stream read (decision 110):
`replicas.log` when no source is named, else the step's or the replica's own file.
The stream runs after the route has returned, with no session open: it reads files, waits on
`aichor.logs.follow` and asks the database only whether the experiment has ended (at most
once a second per experiment in this process, however many followers). Called by
`aichor.api.experiments`.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

import anyio.to_thread
from sqlalchemy import select
from sqlalchemy.orm import Session

from aichor.db import tables
from aichor.db.session import make_engine, session
from aichor.errors import InvalidInput, NotFound
from aichor.lifecycle import TERMINAL_EXPERIMENT, ExperimentStatus
from aichor.logs import follow
from aichor.logs.store import LogChunk, LogStore, check_offset
from aichor.schemas import experiments as schemas
from aichor.services.access import Actor, can_use_project
from aichor.settings import Settings

STREAM_BATCH = 5000
"""Lines per SSE event at most (a follower catching up gets big events, a live one small)."""
KEEPALIVE_SECONDS = 15.0
END_CHECK_SECONDS = 1.0
_DOWNLOAD_CHUNK = 1 << 20


def read_logs(
    session: Session,
    actor: Actor,
    experiment_id: str,
    *,
    settings: Settings,
    source: str | None = None,
    after: int = 0,
    limit: int = 1000,
) -> schemas.LogPage:
    """A page of a step's (`Building`), a replica's, or every replica's lines from `after`."""
    experiment = visible_experiment(session, actor, experiment_id)
    ended = ExperimentStatus(experiment.status) in TERMINAL_EXPERIMENT
    if experiment.logs_purged_at is not None:
        return schemas.LogPage(lines=[], next=after, finished=True, purged_at=_purged(experiment))
    limit = min(max(limit, 1), 10_000)
    chunk = LogStore(settings.logs_dir).read(experiment.id, source, max(after, 0), limit)
    return schemas.LogPage(
        lines=_views(chunk), next=chunk.next, finished=ended and len(chunk.lines) < limit
    )


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
            event, after = await _next_event(store, self.experiment_id, self.source, position)
            if event is None:
                ended = await _ended(self.settings, self.experiment_id)
                # Read again after learning it ended: the last lines land before the end does.
                event, after = await _next_event(store, self.experiment_id, self.source, position)
                if event is None and ended:
                    break
            if event is not None:
                position, idle_since = after, time.monotonic()
                yield event
                continue
            if time.monotonic() - idle_since >= KEEPALIVE_SECONDS:
                idle_since = time.monotonic()
                yield b": keep-alive\n\n"
            await follow.wait_for_growth(path, position, END_CHECK_SECONDS)
        purged = None if self.purged_at is None else self.purged_at.isoformat()
        body = {"lines": [], "next": position, "finished": True, "purged_at": purged}
        yield _event("end", body, event_id=position)


def open_stream(
    session: Session,
    actor: Actor,
    experiment_id: str,
    *,
    settings: Settings,
    source: str | None = None,
    after: int = 0,
) -> LogStream:
    """Check access and the starting offset now, so a bad request fails before streaming."""
    experiment = visible_experiment(session, actor, experiment_id)
    if experiment.logs_purged_at is None:
        _check_start(LogStore(settings.logs_dir), experiment.id, source, after)
    return LogStream(settings, experiment.id, source, after, _purged(experiment))


@dataclass(frozen=True)
class LogDownload:
    """The bytes of one stream as they were when the download began."""

    filename: str
    size: int
    chunks: Iterator[bytes]


def download_logs(
    session: Session,
    actor: Actor,
    experiment_id: str,
    *,
    settings: Settings,
    source: str | None = None,
) -> LogDownload:
    """The whole stream as a file (`<timestamp>\\t<source>\\t<text>` lines)."""
    experiment = visible_experiment(session, actor, experiment_id)
    if experiment.logs_purged_at is not None:
        raise NotFound(f"the logs of {experiment.id} were purged on {_purged(experiment)}")
    path = LogStore(settings.logs_dir).path(experiment.id, source)
    stem = path.stem.removesuffix("_")
    filename = f"{experiment.id}-{stem}.log"
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return LogDownload(filename, 0, iter(()))
    # Only what is there now: a log still growing would outrun the Content-Length.
    size = path.stat().st_size
    return LogDownload(filename, size, _file_chunks(handle, size))


def visible_experiment(session: Session, actor: Actor, experiment_id: str) -> tables.Experiment:
    """The experiment, if the actor may see it; NotFound otherwise (also for other orgs)."""
    experiment = session.scalars(
        select(tables.Experiment).where(
            tables.Experiment.id == experiment_id,
            tables.Experiment.organisation_id == actor.organisation_id,
        )
    ).one_or_none()
    if experiment is None or not can_use_project(session, actor, experiment.project_id):
        raise NotFound(f"experiment {experiment_id} not found")
    return experiment


def _check_start(store: LogStore, experiment_id: str, source: str | None, after: int) -> None:
    if after < 0:
        raise InvalidInput(f"after: {after} must be 0 or more", field="after")
    path = store.path(experiment_id, source)
    if not path.is_file():
        if after:
            raise InvalidInput(f"after: {after} is past the end of the log", field="after")
        return
    with path.open("rb") as handle:
        check_offset(handle, after)


async def _next_event(
    store: LogStore, experiment_id: str, source: str | None, after: int
) -> tuple[bytes | None, int]:
    """The next `lines` event and the offset after it (None: nothing new); read in a thread."""
    return await anyio.to_thread.run_sync(_lines_event, store, experiment_id, source, after)


def _lines_event(
    store: LogStore, experiment_id: str, source: str | None, after: int
) -> tuple[bytes | None, int]:
    try:
        fields, end = store.read_fields(experiment_id, source, after, STREAM_BATCH)
    except InvalidInput:
        return None, after  # the log was purged (deleted) under the follower
    if not fields:
        return None, after
    lines = [{"timestamp": stamp, "source": name, "text": text} for stamp, name, text in fields]
    body = {"lines": lines, "next": end, "finished": False}
    return _event("lines", body, event_id=end), end


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


def _event(kind: str, body: object, *, event_id: int) -> bytes:
    data = json.dumps(body, separators=(",", ":"))
    return f"id: {event_id}\nevent: {kind}\ndata: {data}\n\n".encode()


def _views(chunk: LogChunk) -> list[schemas.LogLineView]:
    return [
        schemas.LogLineView(timestamp=line.timestamp, source=line.source, text=line.text)
        for line in chunk.lines
    ]


def _purged(experiment: tables.Experiment) -> datetime | None:
    return experiment.logs_purged_at


def _file_chunks(handle: BinaryIO, size: int) -> Iterator[bytes]:
    with handle:
        left = size
        while left > 0:
            data = handle.read(min(_DOWNLOAD_CHUNK, left))
            if not data:
                return
            left -= len(data)
            yield data
