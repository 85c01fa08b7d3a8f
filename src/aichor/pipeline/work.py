"""What a step function is handed (a `Job` snapshot and the `Context`) and returns (`Result`).

Step functions run with no database session open: they see only these plain values.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from aichor.engines.base import RunOutcome
from aichor.engines.local.detached import DetachedLocalEngine
from aichor.errors import InvalidInput
from aichor.lifecycle import Step, StepStatus
from aichor.logs.redact import Redactor
from aichor.logs.store import LogStore
from aichor.pipeline.log_copy import LogPump
from aichor.replicas import MetricSample, ReplicaState
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
    variables: dict[str, str] = field(default_factory=dict, repr=False)
    """Project runtime variables, sensitive ones decrypted: never log them."""
    build_variables: dict[str, str] = field(default_factory=dict, repr=False)
    """Project build-time variables, sensitive ones decrypted."""
    secrets: tuple[str, ...] = field(default=(), repr=False)
    """The clear values of the sensitive variables: masked in every stored line and message."""
    unreadable: tuple[str, ...] = ()
    """Sensitive variables the server's key cannot decrypt (the key changed since they were set)."""
    storage: JobStorage | None = None
    """The project's buckets and (encrypted) S3 key; None only for a job loaded without settings."""

    def redactor(self) -> Redactor:
        return Redactor(self.secrets)

    def check_variables(self) -> None:
        """InvalidInput naming the variables that cannot be decrypted (Building, Submitting)."""
        if self.unreadable:
            raise InvalidInput(
                f"sensitive variable(s) {', '.join(self.unreadable)} cannot be decrypted: the "
                "server's secret key changed since they were set; set them again",
                field="variables",
            )


@dataclass(frozen=True)
class JobStorage:
    """A project's bucket names and S3 access key, as `project_storage` holds them."""

    input_bucket: str
    output_bucket: str
    access_key_id: str
    secret: str = field(repr=False)
    """The key's secret in clear, decrypted once when the job is loaded: never log it (it is
    among the job's `secrets`, masked in every line)."""


@dataclass
class Result:
    """What a step did. `status` None: still going, look again after the poll interval."""

    status: StepStatus | None
    message: str = ""
    updates: dict[str, object] = field(default_factory=dict)
    """Experiment columns to set (manifest text, operator, workload name, ...)."""
    outcome: RunOutcome | None = None
    replicas: list[ReplicaState] = field(default_factory=list)
    samples: list[MetricSample] = field(default_factory=list)
    """Resource samples of the running replicas, taken by the run step."""


def masked(result: Result, job: Job) -> Result:
    """The result with the job's secret values masked in every text it carries to the database
    (step message, failure reason, replica reasons)."""
    redactor = job.redactor()
    if not redactor:
        return result
    result.message = redactor.text(result.message)
    if result.outcome is not None:
        result.outcome = replace(result.outcome, reason=redactor.text(result.outcome.reason))
    result.replicas = [
        replace(r, reason=redactor.text(r.reason)) if r.reason else r for r in result.replicas
    ]
    return result


@dataclass
class Context:
    """What every step may use: settings, the engine, the log store."""

    settings: Settings
    engine: DetachedLocalEngine
    logs: LogStore
    pump: LogPump
    last_sampled: dict[str, float] = field(default_factory=dict)
    """Experiment id → `time.monotonic()` of its last resource sample in this process."""

    def workspace(self, job: Job) -> Path:
        return self.settings.home / "workspaces" / job.id

    def step_log(self, job: Job, step: Step) -> LogWriter:
        return LogWriter(self.logs, job.id, step, job.redactor())


@dataclass(frozen=True)
class LogWriter:
    """Appends lines to one step's log as the step produces them (the build's `on_log`),
    secret values masked."""

    logs: LogStore
    experiment_id: str
    step: Step
    redactor: Redactor = field(default_factory=lambda: Redactor(()))

    def __call__(self, text: str) -> None:
        self.logs.append(self.experiment_id, self.step, [self.redactor.text(text)])


def context_for(settings: Settings) -> Context:
    """The context of one process: a detached local engine and the log store under home."""
    engine = DetachedLocalEngine(state_dir=settings.runs_dir, cache_dir=settings.cache_dir)
    logs = LogStore(settings.logs_dir)
    return Context(settings=settings, engine=engine, logs=logs, pump=LogPump(engine, logs))
