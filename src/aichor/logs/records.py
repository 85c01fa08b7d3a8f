"""The log record format, shared by the engines' files and the log store.

One record per line: `<ISO-8601 UTC timestamp>\\t<source>\\t<text>\\n`. The local engine's
supervisor writes records in this format, engines hand them to the pipeline as `LogRecords`,
and the store keeps them as they are (decision 110).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import BinaryIO

from aichor.errors import InvalidInput
from aichor.replicas import LogLine


@dataclass(frozen=True)
class LogChunk:
    """Complete lines read from one stream and the offset where the next line starts."""

    lines: list[LogLine]
    next: int


@dataclass(frozen=True)
class LogRecords:
    """Complete records in the store's format (`<ISO-8601 UTC stamp>\\t<source>\\t<text>\\n`)
    and the offset after them in the stream they came from: what engines hand the pipeline."""

    data: bytes
    next: int

    def lines(self) -> list[LogLine]:
        text = self.data.decode(errors="replace")
        return [parse_record(raw) for raw in text.split("\n")[:-1]]


def check_offset(handle: BinaryIO, offset: int, *, field: str = "after") -> None:
    """InvalidInput unless `offset` is the start of a line of the open file (or its end)."""
    size = os.fstat(handle.fileno()).st_size
    if offset < 0 or offset > size:
        raise InvalidInput(f"{field}: {offset} is past the end of the log ({size})", field=field)
    if offset:
        handle.seek(offset - 1)
        if handle.read(1) != b"\n":
            raise InvalidInput(f"{field}: {offset} is not the start of a line", field=field)


def format_record(source: str, line: LogLine | str) -> bytes:
    if isinstance(line, str):
        line = LogLine(timestamp=datetime.now(UTC), source=source, text=line)
    when = line.timestamp
    stamp = (when if when.tzinfo is UTC else when.astimezone(UTC)).isoformat()
    return f"{stamp}\t{line.source}\t{one_line(line.text)}\n".encode(errors="replace")


def one_line(text: str) -> str:
    """A record is one line: a newline or a carriage return (progress bars) in the text would
    split it for readers that split lines on them, so each becomes a space."""
    if "\n" in text or "\r" in text:
        return text.replace("\n", " ").replace("\r", " ")
    return text


def parse_record(raw: str) -> LogLine:
    try:
        stamp, source, text = raw.split("\t", 2)
        return LogLine(timestamp=datetime.fromisoformat(stamp), source=source, text=text)
    except ValueError:  # not a record of ours (hand-edited file): keep its text
        stamp, source, text = [*raw.split("\t", 2), "", ""][:3]
        return LogLine(timestamp=datetime.now(UTC), source=source, text=text)
