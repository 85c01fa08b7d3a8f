"""Reading an experiment's logs: pages, a live stream (Server-Sent Events), a download.

Every entry point first checks that the actor may see the experiment (same organisation, a
project they use). Offsets are byte offsets of line starts in the stream read (decision 110):
`replicas.log` when no source is named, else the step's or the replica's own file. The stream
itself is `services.log_stream`. Called by `aichor.api.experiments`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from sqlalchemy.orm import Session

from aichor.db import tables
from aichor.errors import InvalidInput, NotFound
from aichor.lifecycle import TERMINAL_EXPERIMENT, ExperimentStatus
from aichor.logs.records import LogChunk
from aichor.logs.store import LogStore
from aichor.schemas import experiments as schemas
from aichor.services.access import Actor, visible_experiment
from aichor.services.log_stream import LogStream
from aichor.settings import Settings

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
class LogWindow:
    """Lines as `[timestamp, source, text]` between byte offsets `start` and `next` of one
    stream, for the dashboard's log viewer (it renders a bounded window of the log and asks
    for the lines before its first or after its last as the reader scrolls)."""

    lines: list[list[str]]
    start: int
    next: int
    ended: bool
    """The experiment is over: nothing will be written after the current end."""
    purged_at: datetime | None = None

    def as_json(self) -> dict[str, object]:
        purged = None if self.purged_at is None else self.purged_at.isoformat()
        return {
            "lines": self.lines,
            "start": self.start,
            "next": self.next,
            "ended": self.ended,
            "purged_at": purged,
        }


def read_window(
    session: Session,
    actor: Actor,
    experiment_id: str,
    *,
    settings: Settings,
    source: str | None = None,
    after: int | None = None,
    before: int | None = None,
    limit: int = 1000,
) -> LogWindow:
    """`limit` lines from `after`, or the `limit` lines that end at `before` (neither: the
    last `limit` lines of the log, where the viewer opens)."""
    if after is not None and before is not None:
        raise InvalidInput("after and before: give one of them, not both", field="before")
    experiment = visible_experiment(session, actor, experiment_id)
    ended = ExperimentStatus(experiment.status) in TERMINAL_EXPERIMENT
    position = after or before or 0
    if experiment.logs_purged_at is not None:
        return LogWindow([], position, position, True, _purged(experiment))
    limit = min(max(limit, 1), 10_000)
    store = LogStore(settings.logs_dir)
    if after is not None:
        lines, end = store.read_fields(experiment.id, source, after, limit)
        return LogWindow(lines, after, end, ended)
    lines, start, end = store.read_fields_before(experiment.id, source, before, limit)
    return LogWindow(lines, start, end, ended)


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
        LogStore(settings.logs_dir).check_start(experiment.id, source, after)
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
