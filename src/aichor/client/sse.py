"""Server-Sent Events over httpx: parse `id`/`event`/`data` fields, resume with `Last-Event-ID`.

The log stream (`GET /api/experiments/{id}/logs/stream`) is the only user. The format is the
WHATWG one: fields up to a blank line make an event; lines starting with `:` are comments
(keep-alives). Written here rather than taken from a package because the client needs only
these lines of it (decision 111).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from aichor.client.views import LogLineView, LogPage


@dataclass(frozen=True)
class Event:
    kind: str
    data: str
    id: str | None


def parse(lines: Iterable[str]) -> Iterator[Event]:
    """Events from the lines of an SSE body (as `httpx.Response.iter_lines()` yields them)."""
    kind, data, event_id = "message", [], None  # type: ignore[var-annotated]
    for line in lines:
        if not line:
            if data:
                yield Event(kind, "\n".join(data), event_id)
            kind, data, event_id = "message", [], None
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            kind = value
        elif name == "data":
            data.append(value)
        elif name == "id":
            event_id = value


def log_page(data: str) -> LogPage:
    """A `lines`/`end` event of the log stream as a LogPage (lines come as [time, source, text])."""
    body = json.loads(data)
    lines = [
        LogLineView(timestamp=stamp, source=source, text=text)
        for stamp, source, text in body.get("lines", [])
    ]
    return LogPage(
        lines=lines,
        next=body["next"],
        finished=bool(body.get("finished")),
        purged_at=body.get("purged_at"),
    )
