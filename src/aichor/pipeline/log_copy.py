"""Copying replica lines from the engine into the log store, continuously and exactly once.

`LogPump` is one thread per pipeline process. `run.act` registers each running workload on
every look (`watch`); the pump then copies new engine lines every `PUMP_SECONDS`, so a line
reaches the store (and its followers) within tens of milliseconds instead of one reconciler
poll. `run.act` also drains with `copy_lines` before it reports an outcome, so the store holds
every line before the experiment is marked ended. Both go through the store's compare-and-set
on the engine offset, so the pump, the reconciler and another worker process never write a
batch twice. Between lines the pump's tick is one `stat` of each watched stream: it copies only
when a stream has grown since its last copy, so a quiet running workload costs next to nothing
(reading the store's cursor and the stream 50 times a second was most of an idle server's CPU).
The same tick notices the end of a workload (the engine's outcome recorded): the pump copies
the last lines, stops watching it and calls `on_end` on every tick until that returns True, so
the reconciler looks at it at once instead of at its next running poll (`on_end` says False
while a worker still holds the experiment: that worker may be about to release it for a poll
interval, having looked a moment before the end).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from aichor.engines.local.detached import DetachedLocalEngine
from aichor.logs.redact import Redactor
from aichor.logs.store import LogStore

log = logging.getLogger(__name__)
PUMP_SECONDS = 0.02


def copy_lines(
    engine: DetachedLocalEngine,
    logs: LogStore,
    experiment_id: str,
    workload: str,
    redactor: Redactor,
) -> int:
    """Every engine line not yet in the store, in order, secret values masked; the number of
    lines written."""
    copied = 0
    while True:
        start = logs.engine_position(experiment_id)
        records = engine.read_log(workload, start)
        if not records.data:
            return copied
        data = redactor.records(records.data)
        copied += logs.append_records(experiment_id, data, engine=(start, records.next))


class LogPump:
    """A daemon thread copying the lines of every watched workload; `stop()` ends it."""

    def __init__(self, engine: DetachedLocalEngine, logs: LogStore) -> None:
        self.engine, self.logs = engine, logs
        self._watched: dict[str, tuple[str, Redactor]] = {}
        self._sizes: dict[str, int] = {}
        """Experiment id → the stream's size before the pump's last copy: all of it is copied."""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ending: set[str] = set()
        """Experiments whose workload ended, until `on_end` has taken them."""
        self.on_end: Callable[[str], bool] | None = None
        """Called with the experiment id of an ended workload until it returns True."""

    def watch(self, experiment_id: str, workload: str, redactor: Redactor) -> None:
        with self._lock:
            self._watched[experiment_id] = (workload, redactor)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="log-pump", daemon=True)
                self._thread.start()

    def unwatch(self, experiment_id: str) -> None:
        with self._lock:
            self._forget(experiment_id)
            self._ending.discard(experiment_id)

    def _forget(self, experiment_id: str) -> None:
        """Stop watching the stream (with the lock held)."""
        self._watched.pop(experiment_id, None)
        self._sizes.pop(experiment_id, None)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _loop(self) -> None:
        while not self._stop.wait(PUMP_SECONDS):
            with self._lock:
                watched = list(self._watched.items())
                ending = list(self._ending)
            for experiment_id, (workload, redactor) in watched:
                try:
                    ended = self.engine.has_outcome(workload)  # before the copy: its last lines
                    self._copy_if_grown(experiment_id, workload, redactor)
                    if ended:
                        with self._lock:
                            self._forget(experiment_id)
                            self._ending.add(experiment_id)
                except Exception:  # one unreadable workload must not stop the others
                    log.exception("copying the logs of %s", experiment_id)
            for experiment_id in ending:
                self._tell_end(experiment_id)

    def _tell_end(self, experiment_id: str) -> None:
        try:
            taken = self.on_end is None or self.on_end(experiment_id)
        except Exception:  # a database hiccup: try again at the next tick
            log.exception("reporting the end of %s", experiment_id)
            return
        if taken:
            with self._lock:
                self._ending.discard(experiment_id)

    def _copy_if_grown(self, experiment_id: str, workload: str, redactor: Redactor) -> None:
        """The size is read before copying, so a line written during the copy makes the next
        tick look again (an unfinished last line, too, is copied once it grows)."""
        size = self.engine.log_size(workload)
        if self._sizes.get(experiment_id) == size:
            return
        copy_lines(self.engine, self.logs, experiment_id, workload, redactor)
        with self._lock:
            if experiment_id in self._watched:
                self._sizes[experiment_id] = size
