"""The Engine interface: where replicas run. Six methods, idempotent on the workload name, plus
`open_shell` (an interactive shell in a running replica, for the dashboard's terminal).

The local engine (real processes) implements it now; Docker and Kubernetes engines later.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from aichor.lifecycle import ExperimentStatus
from aichor.logs.records import LogRecords
from aichor.replicas import LogLine, MetricSample, ReplicaPlan, ReplicaState


@dataclass(frozen=True)
class BuildRequest:
    """What to build: a repository checkout and the manifest's builder block, resolved."""

    repo_dir: Path
    context_dir: Path
    dockerfile: Path
    build_args: Mapping[str, str] = field(default_factory=dict)
    target: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    """Environment of the build's own commands (the project's build-time variables): a private
    index's credentials, say. They are also in `build_args`."""


@dataclass(frozen=True)
class ImageRef:
    """What `build` produced. Local engine: a Python environment plus a laid-out file tree."""

    ref: str
    """Content hash (local) or image reference (docker, kubernetes)."""
    root: Path | None = None
    """Local engine: the image's file tree (WORKDIR, COPY, ADD replayed) and environment."""
    workdir: str = "/"
    env: Mapping[str, str] = field(default_factory=dict)
    """ENV instructions of the Dockerfile, applied beneath the platform variables."""
    python_env: Path | None = None
    """Local engine: the virtual environment the image's Python packages were installed into."""
    cached: bool = False


@dataclass(frozen=True)
class RunPolicy:
    """Lifecycle rules from the manifest spec, independent of the operator."""

    backoff_limit: int = 0
    deadline_seconds: float | None = None
    shutdown_command: Sequence[str] | None = None
    grace_period_seconds: float = 30.0


@dataclass(frozen=True)
class Mount:
    """A host folder every replica sees at `target` (a shared or attached volume)."""

    source: Path
    target: str
    """Absolute path inside the replica's file view."""


@dataclass(frozen=True)
class Workload:
    """One experiment's gang, as submitted to an engine."""

    plan: ReplicaPlan
    image: ImageRef
    policy: RunPolicy = field(default_factory=RunPolicy)
    mounts: tuple[Mount, ...] = ()

    @property
    def name(self) -> str:
        return self.plan.workload_name


@dataclass(frozen=True)
class RunOutcome:
    """How a workload ended, as the experiment's status and exit code."""

    status: ExperimentStatus
    exit_code: int
    reason: str = ""
    failed_replica: str | None = None
    """The replica that failed first, when one did."""


class Shell(Protocol):
    """An interactive shell in a replica's environment, behind a pseudo-terminal.

    `fileno` is the terminal's master side (non-blocking): read the shell's output from it,
    write keystrokes to it. `close` kills the shell and everything it started.
    """

    def fileno(self) -> int: ...

    def write(self, data: bytes) -> None: ...

    def resize(self, rows: int, cols: int) -> None: ...

    def close(self) -> None: ...


class Engine(Protocol):
    """Where experiments run. `submit` and `cancel` are idempotent on the workload name."""

    def build(self, request: BuildRequest, on_log: Callable[[str], None]) -> ImageRef: ...

    def submit(self, workload: Workload) -> None: ...

    def observe(self, name: str) -> list[ReplicaState]: ...

    def logs(self, name: str, replica: str | None = None, after: int = 0) -> list[LogLine]: ...

    def sample(self, name: str) -> list[MetricSample]:
        """CPU, memory (and GPU where visible) of each running replica, measured now; cheap."""
        ...

    def read_log(self, name: str, offset: int = 0) -> LogRecords:
        """Every replica's records from byte `offset` of the engine's interleaved stream, in the
        log store's format, and the offset after them: the pipeline copies them into
        `aichor.logs` as they are (decision 110)."""
        ...

    def cancel(self, name: str) -> None: ...

    def open_shell(self, name: str, replica: str) -> Shell:
        """A shell in `replica`'s environment while it runs; NotFound/Conflict otherwise."""
        ...
