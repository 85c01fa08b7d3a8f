"""What a step function is handed (a `Job` snapshot and the `Context`) and returns (`Result`).

Step functions run with no database session open: they see only these plain values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from aichor.engines.base import RunOutcome
from aichor.engines.local.detached import DetachedLocalEngine
from aichor.lifecycle import Step, StepStatus
from aichor.logs.store import LogStore
from aichor.pipeline.log_copy import LogPump
from aichor.replicas import ReplicaState
from aichor.settings import Settings


@dataclass(frozen=True)
class Job:
    """One claimed experiment, copied out of the database."""

    id: str
    project_id: str
    project_name: str
    repository_url: str
    engine_name: str
    user_email: str
    user_name: str
    source_kind: str
    commit_sha: str
    branch: str
    message: str
    archive_key: str
    manifest_path: str
    manifest_text: str
    workload_name: str
    step: Step
    step_status: StepStatus
    cancel_requested: bool
    variables: dict[str, str] = field(default_factory=dict)
    """Project runtime variables (non-sensitive ones)."""


@dataclass
class Result:
    """What a step did. `status` None: still going, look again after the poll interval."""

    status: StepStatus | None
    message: str = ""
    updates: dict[str, object] = field(default_factory=dict)
    """Experiment columns to set (manifest text, operator, workload name, ...)."""
    outcome: RunOutcome | None = None
    replicas: list[ReplicaState] = field(default_factory=list)


@dataclass
class Context:
    """What every step may use: settings, the engine, the log store."""

    settings: Settings
    engine: DetachedLocalEngine
    logs: LogStore
    pump: LogPump

    def workspace(self, job: Job) -> Path:
        return self.settings.home / "workspaces" / job.id

    def step_log(self, job: Job, step: Step) -> LogWriter:
        return LogWriter(self.logs, job.id, step)


@dataclass(frozen=True)
class LogWriter:
    """Appends lines to one step's log as the step produces them (the build's `on_log`)."""

    logs: LogStore
    experiment_id: str
    step: Step

    def __call__(self, text: str) -> None:
        self.logs.append(self.experiment_id, self.step, [text])


def context_for(settings: Settings) -> Context:
    """The context of one process: a detached local engine and the log store under home."""
    engine = DetachedLocalEngine(state_dir=settings.runs_dir, cache_dir=settings.cache_dir)
    logs = LogStore(settings.logs_dir)
    return Context(settings=settings, engine=engine, logs=logs, pump=LogPump(engine, logs))
