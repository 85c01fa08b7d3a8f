"""Durable per-experiment logs: one file per source plus the interleaved stream of replicas.

Layout: `<root>/<experiment id>/<stream>.log`, one line per record:
`<ISO-8601 UTC timestamp>\\t<source>\\t<text>`. Step logs use the step name as source
(`Cloning`, `Building`, ...); replica lines go to the replica's file and to `replicas.log`, the
interleaved stream read when no source is named.

Offsets (decision 110): a position in a stream is the byte offset of a line start in that
stream's file. Reads seek to it (no scan from the start); a page's `next` is where the next line
will start, so a reader that resumes from it misses nothing and repeats nothing.

Exactly-once copies from an engine: `append_records(..., engine=(start, end))` is a
compare-and-set on the engine position recorded in `<experiment>/replicas.cursor`, taken under
a per-experiment file lock, so concurrent copiers (threads or processes) never both write a
batch. The cursor also records each replica stream's committed size; bytes beyond it are an
append cut short by a crash and are truncated before the next one (the redo writes the same
bytes at the same offsets).

Callers: `pipeline` (append), `services.logs` (read, stream, download, purge).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import re
import shutil
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO, TypedDict

from aichor.errors import InvalidInput
from aichor.files import write_json
from aichor.logs import follow
from aichor.logs.records import (
    LogChunk,
    check_offset,
    format_record,
    parse_record,
)
from aichor.replicas import LogLine

REPLICAS = "replicas"
"""The interleaved stream of every replica's lines (no `source` in a read)."""
CURSOR = "replicas.cursor"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")
_READ_BYTES = 1 << 20
_MAX_PAGE_BYTES = 8 << 20
SYNC_SECONDS = 1.0


class LogStore:
    """Log files of every experiment under `root`; safe to use from many threads and processes."""

    def __init__(self, root: Path, *, sync: bool = True) -> None:
        self.root = root
        self._sync = sync
        self._lock = threading.Lock()
        self._unsynced: set[Path] = set()
        self._syncer: threading.Thread | None = None

    # -- writing ------------------------------------------------------------------------------

    def append(self, experiment_id: str, source: str, lines: Iterable[LogLine | str]) -> int:
        """Append lines to `source` (and to the replica stream unless `source` is a step)."""
        records = [format_record(source, line) for line in lines]
        if not records:
            return 0
        if _is_step(source):
            folder = self._folder(experiment_id)
            with self._locked(folder):
                path = folder / f"{_stem(source)}.log"
                _cut_partial_line(path)
                self._write(path, b"".join(records))
            follow.announce(folder)
            return len(records)
        return self._append_replica_streams(experiment_id, _by_stream(source, records), None)

    def append_records(
        self, experiment_id: str, data: bytes, *, engine: tuple[int, int] | None = None
    ) -> int:
        """Replica records already in the store's format, as an engine hands them over
        (`<ISO-8601 UTC stamp>\\t<source>\\t<text>\\n` each): the fast path of the copy, with
        no parsing beyond finding each record's source.

        `engine=(start, end)`: `data` is the engine's stream from `start` to `end`; it is
        written only if the store's engine position is still `start` (then it becomes `end`),
        so two copiers of the same batch write it once. Returns the records written.
        """
        if not data:
            return 0
        if not data.endswith(b"\n"):
            raise ValueError("log records end with a newline")
        raws = data.split(b"\n")[:-1]
        by_source: dict[bytes, list[bytes]] = {}
        for raw in raws:
            fields = raw.split(b"\t", 2)
            by_source.setdefault(fields[1] if len(fields) == 3 else b"aichor", []).append(raw)
        streams = {REPLICAS: [data]}
        for source, lines in by_source.items():
            streams[_stem(source.decode(errors="replace"))] = [b"\n".join(lines), b"\n"]
        written = self._append_replica_streams(experiment_id, streams, engine)
        return len(raws) if written else 0

    def engine_position(self, experiment_id: str) -> int:
        """How far into the engine's interleaved stream the store has copied."""
        return _load_cursor(self._folder(experiment_id))["engine"]

    def _append_replica_streams(
        self,
        experiment_id: str,
        streams: dict[str, list[bytes]],
        engine: tuple[int, int] | None,
    ) -> int:
        """Write each stream's bytes; 0 when the engine position moved on (nothing written)."""
        folder = self._folder(experiment_id)
        with self._locked(folder):
            cursor = _load_cursor(folder)
            if engine is not None and cursor["engine"] != engine[0]:
                return 0  # another copier wrote this batch already
            sizes = cursor["sizes"]
            _cut_interrupted_appends(folder, sizes)
            for stream, parts in streams.items():
                if parts:
                    sizes[stream] = self._write(folder / f"{stream}.log", b"".join(parts))
            cursor["sizes"] = sizes
            if engine is not None:
                cursor["engine"] = engine[1]
            _save_cursor(folder, cursor)
        follow.announce(folder)
        return sum(part.count(b"\n") for part in streams.get(REPLICAS, []))

    @contextlib.contextmanager
    def _locked(self, folder: Path) -> Iterator[None]:
        """This process's threads (a mutex) and other processes (flock) one at a time."""
        with self._lock:
            folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o640)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)

    def _write(self, path: Path, data: bytes) -> int:
        """Append `data` in one write (in the OS once this returns); the file's new size."""
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, data)
            size = os.fstat(fd).st_size
        finally:
            os.close(fd)
        if self._sync:
            self._unsynced.add(path)
            if self._syncer is None:
                self._syncer = threading.Thread(
                    target=self._sync_loop, name="log-sync", daemon=True
                )
                self._syncer.start()
        return size

    def _sync_loop(self) -> None:
        """fsync the files written since the last pass, once per `SYNC_SECONDS`, off the write
        path: a process crash loses nothing once `write` returned, and this bounds what a
        machine crash can lose without an fsync per batch (5-300 ms each here, decision 110).
        """
        while True:
            time.sleep(SYNC_SECONDS)
            with self._lock:
                paths, self._unsynced = self._unsynced, set()
            for path in paths:
                with contextlib.suppress(FileNotFoundError):
                    fd = os.open(path, os.O_RDONLY)
                    try:
                        os.fsync(fd)
                    finally:
                        os.close(fd)

    # -- reading ------------------------------------------------------------------------------

    def read(
        self, experiment_id: str, source: str | None = None, after: int = 0, limit: int = 1000
    ) -> LogChunk:
        """Up to `limit` complete lines of `source` (or of every replica) from byte `after`."""
        raw_lines, end = self._read_raw(experiment_id, source, after, limit)
        return LogChunk([parse_record(raw.decode(errors="replace")) for raw in raw_lines], end)

    def check_start(self, experiment_id: str, source: str | None, after: int) -> None:
        """InvalidInput unless a read may start at byte `after` (a line's start, or the end)."""
        if after < 0:
            raise InvalidInput(f"after: {after} must be 0 or more", field="after")
        handle = self._open_at(experiment_id, source, after)
        if handle is not None:
            handle.close()

    def _open_at(self, experiment_id: str, source: str | None, after: int) -> BinaryIO | None:
        """The log opened with `after` checked; None when there is no log yet (and `after`
        is 0)."""
        try:
            handle = self.path(experiment_id, source).open("rb")
        except FileNotFoundError:
            if after:
                raise InvalidInput(
                    f"after: {after} is past the end of the log", field="after"
                ) from None
            return None
        try:
            check_offset(handle, after)
        except BaseException:
            handle.close()
            raise
        return handle

    def _read_raw(
        self, experiment_id: str, source: str | None, after: int, limit: int
    ) -> tuple[list[bytes], int]:
        handle = self._open_at(experiment_id, source, after)
        if handle is None:
            return [], 0
        with handle:
            handle.seek(after)
            data = handle.read(max(limit, 1) * 200 + _READ_BYTES // 8)
            while data.count(b"\n") < limit and len(data) < _MAX_PAGE_BYTES:
                more = handle.read(_READ_BYTES)
                if not more:
                    break
                data += more
        raw_lines = data.split(b"\n")[:-1][:limit]
        return raw_lines, after + sum(len(raw) + 1 for raw in raw_lines)

    def read_fields(
        self, experiment_id: str, source: str | None = None, after: int = 0, limit: int = 1000
    ) -> tuple[list[list[str]], int]:
        """Like `read`, as `[timestamp, source, text]` strings (no datetime round trip): the
        live stream sends them on as they are stored."""
        raw_lines, end = self._read_raw(experiment_id, source, after, limit)
        return _fields(raw_lines), end

    def read_fields_before(
        self,
        experiment_id: str,
        source: str | None = None,
        before: int | None = None,
        limit: int = 1000,
    ) -> tuple[list[list[str]], int, int]:
        """The last `limit` complete lines that end at byte `before` (None: the end of the log),
        as `[timestamp, source, text]`, with the offsets of their start and end: what a reader
        scrolling back (or opening at the tail) asks for. Reads backwards from `before` in
        growing blocks, never the whole file."""
        path = self.path(experiment_id, source)
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            if before:
                raise InvalidInput(
                    f"before: {before} is past the end of the log", field="before"
                ) from None
            return [], 0, 0
        with handle:
            if before is not None:
                check_offset(handle, before, field="before")
            end = os.fstat(handle.fileno()).st_size if before is None else before
            data, start = _read_back(handle, end, max(limit, 1))
        if before is None:  # half a line at the end (an append cut short) is not a line yet
            data = data[: data.rfind(b"\n") + 1]
            end = start + len(data)
        raw_lines = data.split(b"\n")[:-1]
        if start > 0 and raw_lines:  # the first piece may be the end of a longer line
            start += len(raw_lines.pop(0)) + 1
        dropped = raw_lines[:-limit] if len(raw_lines) > limit else []
        start += sum(len(raw) + 1 for raw in dropped)
        return _fields(raw_lines[len(dropped) :]), start, end

    def path(self, experiment_id: str, source: str | None = None) -> Path:
        """The file of `source` (or of the interleaved replica stream)."""
        stem = REPLICAS if source is None else _stem(source)
        return self._folder(experiment_id) / f"{stem}.log"

    def folder(self, experiment_id: str) -> Path:
        return self._folder(experiment_id)

    def count(self, experiment_id: str, source: str | None = None) -> int:
        """Complete lines in `source` (scans the file: for tests and tools, not for reads)."""
        path = self.path(experiment_id, source)
        if not path.is_file():
            return 0
        with path.open("rb") as handle:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(_READ_BYTES), b""))

    def delete(self, experiment_id: str) -> bool:
        """Remove every log of the experiment (retention); True if there was anything."""
        folder = self._folder(experiment_id)
        if not folder.exists():
            return False
        shutil.rmtree(folder, ignore_errors=True)
        return True

    def _folder(self, experiment_id: str) -> Path:
        if not _ID.match(experiment_id):
            raise ValueError(f"not an experiment id: {experiment_id!r}")
        return self.root / experiment_id


def _fields(raw_lines: list[bytes]) -> list[list[str]]:
    if not raw_lines:
        return []
    text = b"\n".join(raw_lines).decode(errors="replace")
    fields = [raw.split("\t", 2) for raw in text.split("\n")]
    return [parts if len(parts) == 3 else [*parts, "", ""][:3] for parts in fields]


def _read_back(handle: BinaryIO, end: int, limit: int) -> tuple[bytes, int]:
    """The bytes from some offset up to `end`, enough to hold `limit` whole lines (more than
    `limit` newlines, the first piece being possibly cut) or everything from 0; and that
    offset. A page stops growing at `_MAX_PAGE_BYTES` once it holds one whole line."""
    start, data, block = end, b"", max(limit * 160, 1 << 16)
    while start > 0:
        newlines = data.count(b"\n")
        if newlines > limit or (len(data) >= _MAX_PAGE_BYTES and newlines > 1):
            break
        step = min(block, start)
        start -= step
        handle.seek(start)
        data = handle.read(step) + data
        block = min(block * 2, _READ_BYTES * 4)
    return data, start


def _by_stream(source: str, records: list[bytes]) -> dict[str, list[bytes]]:
    return {REPLICAS: records, _stem(source): records}


def _cut_partial_line(path: Path) -> None:
    """Drop half a line left at the end by a crash mid-append, so the next one starts clean."""
    try:
        with path.open("rb+") as handle:
            size = handle.seek(0, os.SEEK_END)
            if size == 0:
                return
            handle.seek(size - 1)
            if handle.read(1) == b"\n":
                return
            handle.seek(max(size - _READ_BYTES, 0))
            tail = handle.read()
            handle.truncate(size - len(tail) + tail.rfind(b"\n") + 1)
    except FileNotFoundError:
        return


def _cut_interrupted_appends(folder: Path, sizes: dict[str, int]) -> None:
    """Truncate replica streams to their committed sizes (a crash may have left more)."""
    for path in folder.glob("*.log"):
        if _is_step(path.stem):
            continue
        committed = sizes.get(path.stem, 0)
        if path.stat().st_size > committed:
            os.truncate(path, committed)


class _Cursor(TypedDict):
    engine: int
    """Bytes of the engine's interleaved stream copied so far."""
    sizes: dict[str, int]
    """Committed size of every replica stream file."""


def _load_cursor(folder: Path) -> _Cursor:
    try:
        raw = json.loads((folder / CURSOR).read_text())
    except (FileNotFoundError, ValueError):
        raw = {}
    return {"engine": int(raw.get("engine", 0)), "sizes": dict(raw.get("sizes", {}))}


def _save_cursor(folder: Path, cursor: _Cursor) -> None:
    write_json(folder / CURSOR, cursor)


def _is_step(source: str) -> bool:
    return source[:1].isupper() and source.isalpha()


@functools.lru_cache(maxsize=4096)
def _stem(source: str) -> str:
    stem = _UNSAFE.sub("_", source)
    return f"{stem}_" if stem == REPLICAS else stem
