"""The live terminal view of `aichor run`: a Rich panel of steps and replica states stays
under the scrolling, colour-coded log. Pipes and CI get `run_plain.PlainView` instead.
"""

from __future__ import annotations

import threading
from types import TracebackType

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from aichor.cli.run_plain import short_source
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
_SHOWN_STEPS = (Step.BUILDING, Step.SUBMITTING, Step.RUNNING, Step.COMPLETED)


class LiveView:
    """A RunReporter for an interactive terminal. Use as a context manager around `run_local`."""

    def __init__(self, console: Console | None = None) -> None:
        self._console = console or Console(highlight=False, soft_wrap=True)
        self._lock = threading.Lock()
        self._steps: dict[Step, StepStatus] = dict.fromkeys(_SHOWN_STEPS, StepStatus.INITIALIZE)
        self._replicas: dict[str, ReplicaState] = {}
        self._colours: dict[str, str] = {}
        self._live = Live(
            self._render(), console=self._console, refresh_per_second=8, transient=False
        )

    def __enter__(self) -> LiveView:
        self._live.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._live.update(self._render())
        self._live.__exit__(exc_type, exc, tb)

    def step(self, step: Step, status: StepStatus, detail: str = "") -> None:
        with self._lock:
            if step in self._steps:
                self._steps[step] = status
            self._live.update(self._render())
            if detail and status in (StepStatus.FAILED, StepStatus.CANCELLED):
                self._console.print(Text(f"{step.value}: {detail}", style="red"))

    def replicas(self, states: list[ReplicaState]) -> None:
        with self._lock:
            self._replicas.update({state.name: state for state in states})
            self._live.update(self._render())

    def log(self, line: LogLine) -> None:
        with self._lock:
            source = short_source(line.source)
            colour = self._colours.setdefault(source, _PALETTE[len(self._colours) % len(_PALETTE)])
            text = Text(f"{source} | ", style=colour)
            text.append(Text.from_ansi(line.text))
            self._console.print(text)

    def _render(self) -> Group:
        steps = Text()
        for step, status in self._steps.items():
            mark, style = _STEP_STYLE[status]
            steps.append(f" {mark} {step.value} ", style=style)
        if not self._replicas:
            return Group(steps)
        table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        for column in ("replica", "state", "exit", "restarts", "reason"):
            table.add_column(column)
        for state in self._replicas.values():
            table.add_row(
                short_source(state.name),
                Text(state.status.value, style=_REPLICA_STYLE[state.status]),
                "" if state.exit_code is None else str(state.exit_code),
                str(state.restarts),
                state.reason or "",
            )
        return Group(steps, table)
