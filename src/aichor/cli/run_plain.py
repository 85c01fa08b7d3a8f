"""The plain reporter of `aichor run`: one line per event, for pipes, CI and log files.

Kept free of Rich so that a non-interactive run starts as fast as possible (the start-up
benchmark measures this path).
"""

from __future__ import annotations

import re
import sys
import threading

from aichor.lifecycle import Step, StepStatus
from aichor.replicas import LogLine, ReplicaState

WORKLOAD_PREFIX = re.compile(r"^experiment-[0-9a-f]{8}-[0-9a-f]{4}-")


def short_source(name: str) -> str:
    """Replica names start with the workload name; show only the part that differs."""
    return WORKLOAD_PREFIX.sub("", name)


def describe(state: ReplicaState) -> str:
    parts = [state.status.value]
    if state.exit_code is not None:
        parts.append(f"exit {state.exit_code}")
    if state.restarts:
        parts.append(f"restarts {state.restarts}")
    if state.reason:
        parts.append(state.reason)
    return ", ".join(parts)


class PlainView:
    """A RunReporter writing `[aichor] …` event lines and `replica | text` log lines."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._replicas: dict[str, ReplicaState] = {}

    def __enter__(self) -> PlainView:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def step(self, step: Step, status: StepStatus, detail: str = "") -> None:
        suffix = f": {detail}" if detail and status != StepStatus.RUNNING else ""
        self._write(f"[aichor] {step.value}: {status.value}{suffix}")

    def replicas(self, states: list[ReplicaState]) -> None:
        with self._lock:
            changed = [s for s in states if self._replicas.get(s.name) != s]
            self._replicas.update({s.name: s for s in states})
        for state in changed:
            self._write(f"[aichor] replica {short_source(state.name)}: {describe(state)}")

    def log(self, line: LogLine) -> None:
        self._write(f"{short_source(line.source)} | {line.text}")

    def _write(self, text: str) -> None:
        with self._lock:
            sys.stdout.write(text + "\n")
            sys.stdout.flush()
