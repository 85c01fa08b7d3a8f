"""Per-experiment log files: one file per source plus an interleaved stream, readable by offset.

Every line is stamped in UTC when it is read from the replica's pipe and written straight to
the OS (unbuffered files), so a replica or aichor killed mid-stream keeps every line already
produced. Line format, in both the per-source files and `all.log`:
`<ISO-8601 UTC timestamp>\\t<source>\\t<text>`.

Readers address lines by count (`after` = lines already read from that stream); an in-memory
index of byte offsets makes each read a seek, not a rescan.
"""

from __future__ import annotations

import re
import threading
from array import array
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from aichor.logs.records import LogRecords, one_line, parse_record
from aichor.replicas import LogLine

ALL = "all"
"""Name of the interleaved stream (every source, in arrival order)."""
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


class LogStore:
    """The log folder of one experiment; safe to write from many reader threads."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        # A condition, not a bare lock: followers sleep on it and wake as soon as a line lands.
        self._lock = threading.Condition()
        self._files: dict[str, BinaryIO] = {}
        self._offsets: dict[str, array[int]] = {}
        self._ends: dict[str, int] = {}
        self._closed = False
        for path in sorted(folder.glob("*.log")):
            self._index_existing(path)

    def write(self, source: str, text: str, when: datetime | None = None) -> None:
        """Append one line from `source` (a replica name or `aichor`)."""
        self.write_many(source, [text], when)

    def write_many(self, source: str, texts: list[str], when: datetime | None = None) -> None:
        """Append lines read together from `source`: one stamp, one write per file."""
        if not texts:
            return
        prefix = f"{(when or datetime.now(UTC)).isoformat()}\t{source}\t"
        records = [f"{prefix}{one_line(text)}\n".encode(errors="replace") for text in texts]
        with self._lock:
            if self._closed:
                return
            for stream in (_file_stem(source), ALL):
                self._append(stream, records)
            self._lock.notify_all()

    def wait_beyond(self, count: int, timeout: float) -> None:
        """Block until the interleaved stream holds more than `count` lines, or `timeout`."""
        with self._lock:
            self._lock.wait_for(
                lambda: self._closed or len(self._offsets.get(ALL, ())) > count, timeout
            )

    def read(self, source: str | None = None, after: int = 0) -> list[LogLine]:
        """Lines of `source` (or of every source, interleaved) after the first `after`."""
        stream = ALL if source is None else _file_stem(source)
        with self._lock:
            offsets = self._offsets.get(stream)
            if offsets is None or after >= len(offsets):
                return []
            start, end = offsets[max(after, 0)], self._ends[stream]
        with (self.folder / f"{stream}.log").open("rb") as handle:
            handle.seek(start)
            data = handle.read(end - start)
        return [parse_record(raw) for raw in data.decode(errors="replace").splitlines()]

    def count(self, source: str | None = None) -> int:
        stream = ALL if source is None else _file_stem(source)
        with self._lock:
            return len(self._offsets.get(stream, ()))

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._lock.notify_all()
            for handle in self._files.values():
                handle.close()
            self._files.clear()

    def _append(self, stream: str, records: list[bytes]) -> None:
        handle = self._files.get(stream)
        if handle is None:
            # buffering=0: every write is a syscall, so nothing sits in a Python buffer on a crash.
            handle = (self.folder / f"{stream}.log").open("ab", buffering=0)
            self._files[stream] = handle
            self._offsets.setdefault(stream, array("q"))
            self._ends.setdefault(stream, handle.seek(0, 2))
        offsets, end = self._offsets[stream], self._ends[stream]
        for record in records:
            offsets.append(end)
            end += len(record)
        handle.write(b"".join(records))
        self._ends[stream] = end

    def _index_existing(self, path: Path) -> None:
        """Rebuild the offset index of a file written by an earlier process."""
        offsets: array[int] = array("q")
        position = 0
        with path.open("rb") as handle:
            for raw in handle:
                if raw.endswith(b"\n"):
                    offsets.append(position)
                position += len(raw)
        self._offsets[path.stem] = offsets
        self._ends[path.stem] = position


def read_records(folder: Path, offset: int, max_bytes: int = 1 << 20) -> LogRecords:
    """Complete records of the interleaved stream from byte `offset` (about `max_bytes`).

    The pipeline copies with it: a seek and one read, however long the log already is, and
    the bytes as they are (the files are already in the log store's record format).
    """
    try:
        handle = (folder / f"{ALL}.log").open("rb")
    except FileNotFoundError:
        return LogRecords(b"", offset)
    with handle:
        handle.seek(offset)
        data = handle.read(max_bytes)
    end = data.rfind(b"\n") + 1
    if end == 0 and len(data) == max_bytes:  # one line longer than max_bytes: take it whole
        return read_records(folder, offset, max_bytes * 4)
    return LogRecords(data[:end], offset + end)


def stream_size(folder: Path) -> int:
    """How many bytes the interleaved stream holds (0 before its first line): one `stat`."""
    try:
        return (folder / f"{ALL}.log").stat().st_size
    except FileNotFoundError:
        return 0


def _file_stem(source: str) -> str:
    stem = _UNSAFE.sub("_", source)
    return f"{stem}_" if stem == ALL else stem
