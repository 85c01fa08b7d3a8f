"""Durable per-experiment logs: one file per source plus the interleaved stream of replicas.

Layout: `<root>/<experiment id>/<stream>.log`, one line per record:
`<ISO-8601 UTC timestamp>\\t<source>\\t<text>`. Step logs use the step name as source
(`Cloning`, `Building`, ...); replica lines go to the replica's file and to `replicas.log`, the
interleaved stream read when no source is named.

Offsets (decision 110): a position in a stream is the byte offset of a line start in that
stream's file. Reads seek to it (no scan from the start); a page's `next` is where the next line
will start, so a reader that resumes from it misses nothing and repeats nothing.

Exactly-once copies from an engine: `append_replica_lines(..., engine=(start, end))` is a
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
import json
import os
import re
import shutil
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, TypedDict

from aichor.errors import InvalidInput
from aichor.logs import follow
from aichor.replicas import LogLine

REPLICAS = "replicas"
"""The interleaved stream of every replica's lines (no `source` in a read)."""
CURSOR = "replicas.cursor"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")
_READ_BYTES = 1 << 20
_MAX_PAGE_BYTES = 8 << 20


@dataclass(frozen=True)
class LogChunk:
    """Complete lines read from one stream and the offset where the next line starts."""

    lines: list[LogLine]
    next: int


class LogStore:
    """Log files of every experiment under `root`; safe to use from many threads and processes."""

    def __init__(self, root: Path, *, sync: bool = True) -> None:
        self.root = root
        self._sync = sync
        self._lock = threading.Lock()

    # -- writing ------------------------------------------------------------------------------

    def append(self, experiment_id: str, source: str, lines: Iterable[LogLine | str]) -> int:
        """Append lines to `source` (and to the replica stream unless `source` is a step)."""
        records = [_record(source, line) for line in lines]
        if not records:
            return 0
        if _is_step(source):
            folder = self._folder(experiment_id)
            with self._locked(folder):
                self._write(folder / f"{_stem(source)}.log", b"".join(records))
            follow.announce(folder)
            return len(records)
        return self._append_replica_records(experiment_id, [(source, r) for r in records], None)

    def append_replica_lines(
        self,
        experiment_id: str,
        lines: Iterable[LogLine],
        *,
        engine: tuple[int, int] | None = None,
    ) -> int:
        """Replica lines as an engine reports them, each under its own source.

        `engine=(start, end)`: the lines are the engine's stream from `start` to `end`; they
        are written only if the store's engine position is still `start` (then it becomes
        `end`), so two copiers of the same batch write it once. Returns the lines written.
        """
        pairs = [(line.source, _record(line.source, line)) for line in lines]
        return self._append_replica_records(experiment_id, pairs, engine)

    def engine_position(self, experiment_id: str) -> int:
        """How far into the engine's interleaved stream the store has copied."""
        return _load_cursor(self._folder(experiment_id))["engine"]

    def _append_replica_records(
        self,
        experiment_id: str,
        pairs: list[tuple[str, bytes]],
        engine: tuple[int, int] | None,
    ) -> int:
        folder = self._folder(experiment_id)
        with self._locked(folder):
            cursor = _load_cursor(folder)
            if engine is not None and cursor["engine"] != engine[0]:
                return 0  # another copier wrote this batch already
            sizes = cursor["sizes"]
            _cut_interrupted_appends(folder, sizes)
            streams: dict[str, list[bytes]] = {REPLICAS: []}
            for source, record in pairs:
                streams[REPLICAS].append(record)
                streams.setdefault(_stem(source), []).append(record)
            for stream, records in streams.items():
                if records:
                    sizes[stream] = self._write(folder / f"{stream}.log", b"".join(records))
            cursor["sizes"] = sizes
            if engine is not None:
                cursor["engine"] = engine[1]
            _save_cursor(folder, cursor)
        follow.announce(folder)
        return len(pairs)

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
        """Append `data` in one write; the file's new size."""
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, data)
            if self._sync:
                os.fsync(fd)
            return os.fstat(fd).st_size
        finally:
            os.close(fd)

    # -- reading ------------------------------------------------------------------------------

    def read(
        self, experiment_id: str, source: str | None = None, after: int = 0, limit: int = 1000
    ) -> LogChunk:
        """Up to `limit` complete lines of `source` (or of every replica) from byte `after`."""
        path = self.path(experiment_id, source)
        if not path.is_file():
            if after:
                raise InvalidInput(f"after: {after} is past the end of the log", field="after")
            return LogChunk([], 0)
        with path.open("rb") as handle:
            check_offset(handle, after)
            handle.seek(after)
            data = handle.read(max(limit, 1) * 200 + _READ_BYTES // 8)
            while data.count(b"\n") < limit and len(data) < _MAX_PAGE_BYTES:
                more = handle.read(_READ_BYTES)
                if not more:
                    break
                data += more
        lines: list[LogLine] = []
        position = after
        for raw in data.split(b"\n")[:-1][:limit]:
            lines.append(_parse(raw.decode(errors="replace")))
            position += len(raw) + 1
        return LogChunk(lines, position)

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


def check_offset(handle: BinaryIO, offset: int) -> None:
    """InvalidInput unless `offset` is the start of a line of the open file (or its end)."""
    size = os.fstat(handle.fileno()).st_size
    if offset < 0 or offset > size:
        raise InvalidInput(f"after: {offset} is past the end of the log ({size})", field="after")
    if offset:
        handle.seek(offset - 1)
        if handle.read(1) != b"\n":
            raise InvalidInput(f"after: {offset} is not the start of a line", field="after")


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
    temporary = folder / f"{CURSOR}.tmp"
    temporary.write_text(json.dumps(cursor))
    os.replace(temporary, folder / CURSOR)


def _is_step(source: str) -> bool:
    return source[:1].isupper() and source.isalpha()


def _stem(source: str) -> str:
    stem = _UNSAFE.sub("_", source)
    return f"{stem}_" if stem == REPLICAS else stem


def _record(source: str, line: LogLine | str) -> bytes:
    if isinstance(line, str):
        line = LogLine(timestamp=datetime.now(UTC), source=source, text=line)
    stamp = line.timestamp.astimezone(UTC).isoformat()
    text = line.text.replace("\n", " ").replace("\r", " ")
    return f"{stamp}\t{line.source}\t{text}\n".encode(errors="replace")


def _parse(raw: str) -> LogLine:
    stamp, source, text = [*raw.split("\t", 2), "", ""][:3]
    try:
        when = datetime.fromisoformat(stamp)
    except ValueError:
        when = datetime.now(UTC)
    return LogLine(timestamp=when, source=source, text=text)
