"""How `aichor run` shows progress: steps and replica states, then log lines by replica.

On a terminal a Rich live panel (steps, replicas) stays under the scrolling log; elsewhere
(pipes, CI) plain lines are printed as events happen, so output stays greppable.
"""

from __future__ import annotations

import re
import sys
import threading
from types import TracebackType

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from aichor.lifecycle import ReplicaStatus, Step, StepStatus
from aichor.replicas import LogLine, ReplicaState

_STEP_STYLE = {
    StepStatus.INITIALIZE: ("·", "dim"),
    StepStatus.RUNNING: ("◐", "blue"),
    StepStatus.SUCCEEDED: ("✔", "green"),
    StepStatus.FAILED: ("✘", "red"),
    StepStatus.CANCELLED: ("■", "yellow"),
}
_REPLICA_STYLE = {
    ReplicaStatus.PENDING: "dim",
    ReplicaStatus.RUNNING: "blue",
    ReplicaStatus.SUCCEEDED: "green",
    ReplicaStatus.FAILED: "red",
    ReplicaStatus.CANCELLED: "yellow",
}
_PALETTE = ("cyan", "magenta", "green", "yellow", "blue", "bright_red", "bright_cyan")
_WORKLOAD_PREFIX = re.compile(r"^experiment-[0-9a-f]{8}-[0-9a-f]{4}-")
_SHOWN_STEPS = (Step.BUILDING, Step.SUBMITTING, Step.RUNNING, Step.COMPLETED)


class RunView:
    """A RunReporter for the terminal. Use as a context manager around `run_local`."""

    def __init__(self, console: Console | None = None, *, live: bool | None = None) -> None:
        self._console = console or Console(highlight=False, soft_wrap=True)
        self._live_enabled = self._console.is_terminal if live is None else live
        self._lock = threading.Lock()
        self._steps: dict[Step, tuple[StepStatus, str]] = {
            step: (StepStatus.INITIALIZE, "") for step in _SHOWN_STEPS
        }
        self._replicas: dict[str, ReplicaState] = {}
        self._colours: dict[str, str] = {}
        self._live: Live | None = None

    def __enter__(self) -> RunView:
        if self._live_enabled:
            self._live = Live(
                self._render(), console=self._console, refresh_per_second=8, transient=False
            )
            self._live.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._live is not None:
            self._live.update(self._render())
            self._live.__exit__(exc_type, exc, tb)

    # RunReporter ---------------------------------------------------------------------------
    def step(self, step: Step, status: StepStatus, detail: str = "") -> None:
        with self._lock:
            if step in self._steps:
                self._steps[step] = (status, detail)
            if self._live is None:
                suffix = f": {detail}" if detail and status != StepStatus.RUNNING else ""
                self._plain(f"[aichor] {step.value}: {status.value}{suffix}")
            else:
                self._live.update(self._render())

    def replicas(self, states: list[ReplicaState]) -> None:
        with self._lock:
            changed = [s for s in states if self._replicas.get(s.name) != s]
            for state in states:
                self._replicas[state.name] = state
            if self._live is not None:
                self._live.update(self._render())
            else:
                for state in changed:
                    self._plain(f"[aichor] replica {self._short(state.name)}: {_describe(state)}")

    def log(self, line: LogLine) -> None:
        with self._lock:
            source = self._short(line.source)
            if self._live is None:
                self._plain(f"{source} | {line.text}")
                return
            colour = self._colours.setdefault(source, _PALETTE[len(self._colours) % len(_PALETTE)])
            text = Text(f"{source} | ", style=colour)
            text.append(Text.from_ansi(line.text))
            self._console.print(text)

    # rendering -----------------------------------------------------------------------------
    def _short(self, name: str) -> str:
        """Replica names start with the workload name; show only the part that differs."""
        return _WORKLOAD_PREFIX.sub("", name)

    def _plain(self, text: str) -> None:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    def _render(self) -> Group:
        steps = Text()
        for step, (status, _detail) in self._steps.items():
            mark, style = _STEP_STYLE[status]
            steps.append(f" {mark} {step.value} ", style=style)
        table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        for column in ("replica", "state", "exit", "restarts", "reason"):
            table.add_column(column)
        for state in self._replicas.values():
            table.add_row(
                self._short(state.name),
                Text(state.status.value, style=_REPLICA_STYLE[state.status]),
                "" if state.exit_code is None else str(state.exit_code),
                str(state.restarts),
                state.reason or "",
            )
        return Group(steps, table) if self._replicas else Group(steps)


def _describe(state: ReplicaState) -> str:
    parts = [state.status.value]
    if state.exit_code is not None:
        parts.append(f"exit {state.exit_code}")
    if state.restarts:
        parts.append(f"restarts {state.restarts}")
    if state.reason:
        parts.append(state.reason)
    return ", ".join(parts)
