"""Durable per-experiment logs: one file per source plus the interleaved stream of replicas.

Layout: `<root>/<experiment id>/<source>.log`, one line per record:
`<ISO-8601 UTC timestamp>\\t<source>\\t<text>`. Step logs use the step name as source
(`Cloning`, `Building`, ...); replica lines go to the replica's file and to `replicas.log`, the
interleaved stream read when no source is named. Readers address lines by count (`after` =
lines already read). Each append is one unbuffered write followed by `fsync` when asked, so
a line reported as written survives a crash of the server.

Callers: `pipeline` (append) and `services.experiments.read_logs` (read).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from aichor.replicas import LogLine

REPLICAS = "replicas"
"""The interleaved stream of every replica's lines (no `source` in a read)."""
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")


class LogStore:
    """Log files of every experiment under `root`; safe to use from many threads."""

    def __init__(self, root: Path, *, sync: bool = True) -> None:
        self.root = root
        self._sync = sync
        self._lock = threading.Lock()

    def append(self, experiment_id: str, source: str, lines: Iterable[LogLine | str]) -> int:
        """Append lines to `source` (and to the replica stream unless `source` is a step)."""
        records = [_record(source, line) for line in lines]
        if not records:
            return 0
        folder = self._folder(experiment_id)
        data = b"".join(records)
        with self._lock:
            folder.mkdir(parents=True, exist_ok=True)
            streams = [_stem(source)] if _is_step(source) else [_stem(source), REPLICAS]
            for stream in streams:
                self._write(folder / f"{stream}.log", data)
        return len(records)

    def append_replica_lines(self, experiment_id: str, lines: Iterable[LogLine]) -> int:
        """Replica lines as an engine reports them, each under its own source."""
        count = 0
        for line in lines:
            count += self.append(experiment_id, line.source, [line])
        return count

    def read(
        self, experiment_id: str, source: str | None = None, after: int = 0, limit: int = 1000
    ) -> list[LogLine]:
        """Up to `limit` lines of `source` (or of every replica) after the first `after`."""
        path = self._folder(experiment_id) / f"{REPLICAS if source is None else _stem(source)}.log"
        if not path.is_file():
            return []
        found: list[LogLine] = []
        with path.open("rb") as handle:
            for index, raw in enumerate(handle):
                if index < after or not raw.endswith(b"\n"):
                    continue
                found.append(_parse(raw.decode(errors="replace").rstrip("\n")))
                if len(found) >= limit:
                    break
        return found

    def count(self, experiment_id: str, source: str | None = None) -> int:
        """Complete lines in `source` (or in the replica stream)."""
        path = self._folder(experiment_id) / f"{REPLICAS if source is None else _stem(source)}.log"
        if not path.is_file():
            return 0
        with path.open("rb") as handle:
            return sum(1 for raw in handle if raw.endswith(b"\n"))

    def _folder(self, experiment_id: str) -> Path:
        if not _ID.match(experiment_id):
            raise ValueError(f"not an experiment id: {experiment_id!r}")
        return self.root / experiment_id

    def _write(self, path: Path, data: bytes) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, data)
            if self._sync:
                os.fsync(fd)
        finally:
            os.close(fd)


def _is_step(source: str) -> bool:
    return source[:1].isupper() and source.isalpha()


def _stem(source: str) -> str:
    stem = _UNSAFE.sub("_", source)
    return f"{stem}_" if stem == REPLICAS else stem


def _record(source: str, line: LogLine | str) -> bytes:
    if isinstance(line, str):
        line = LogLine(timestamp=datetime.now(UTC), source=source, text=line)
    text = line.text.replace("\n", " ").replace("\r", " ")
    return f"{line.timestamp.isoformat()}\t{line.source}\t{text}\n".encode(errors="replace")


def _parse(raw: str) -> LogLine:
    stamp, source, text = [*raw.split("\t", 2), "", ""][:3]
    try:
        when = datetime.fromisoformat(stamp)
    except ValueError:
        when = datetime.now(UTC)
    return LogLine(timestamp=when, source=source, text=text)
