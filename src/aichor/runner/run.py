"""`aichor run` without a server: manifest → operator plan → local engine, step by step.

Called by `aichor.cli.run_command`; reports progress through a `RunReporter` so the CLI decides
how to show it. Never touches a database or the control plane.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, TypeVar

from aichor import operators
from aichor.engines.base import BuildRequest, ImageRef, RunOutcome, RunPolicy, Workload
from aichor.engines.local import LocalEngine
from aichor.errors import InvalidInput, NotFound
from aichor.experiment_env import ExperimentFacts, merged_env
from aichor.home import AichorHome
from aichor.lifecycle import ExperimentStatus, Step, StepStatus
from aichor.manifest import Manifest, load_manifest_file
from aichor.operators.base import RunContext, short_name
from aichor.replicas import LogLine, ReplicaPlan, ReplicaState
from aichor.runner.facts import local_facts
from aichor.runner.preflight import check_command

_T = TypeVar("_T")


class RunReporter(Protocol):
    """Receives progress; called from the runner's threads, so implementations must be quick."""

    def step(self, step: Step, status: StepStatus, detail: str = "") -> None: ...

    def replicas(self, states: list[ReplicaState]) -> None: ...

    def log(self, line: LogLine) -> None: ...


@dataclass(frozen=True)
class LocalRun:
    """One `aichor run` invocation."""

    repo_dir: Path
    manifest_path: Path
    """Relative to `repo_dir` unless absolute."""
    message: str | None = None


def run_local(run: LocalRun, settings: AichorHome, reporter: RunReporter) -> RunOutcome:
    """Build, plan, submit and follow one experiment on this machine; return how it ended."""
    repo_dir = run.repo_dir.resolve()
    if not repo_dir.is_dir():
        raise NotFound(f"{run.repo_dir}: not a directory")
    manifest_file = (
        run.manifest_path if run.manifest_path.is_absolute() else repo_dir / run.manifest_path
    )
    manifest = load_manifest_file(manifest_file)
    engine = LocalEngine(state_dir=settings.runs_dir, cache_dir=settings.cache_dir)
    experiment_id = str(uuid.uuid4())

    image = _step(reporter, Step.BUILDING, lambda: _build(engine, repo_dir, manifest, reporter))
    facts = local_facts(repo_dir, experiment_id, settings, message=run.message)
    workload = _step(reporter, Step.SUBMITTING, lambda: _submit(engine, manifest, facts, image))
    return _follow(engine, workload, reporter)


def _step(reporter: RunReporter, step: Step, action: Callable[[], _T]) -> _T:
    reporter.step(step, StepStatus.RUNNING)
    try:
        result = action()
    except BaseException as exc:
        status = StepStatus.CANCELLED if isinstance(exc, KeyboardInterrupt) else StepStatus.FAILED
        reporter.step(step, status, str(exc))
        raise
    reporter.step(step, StepStatus.SUCCEEDED)
    return result


def _build(
    engine: LocalEngine, repo_dir: Path, manifest: Manifest, reporter: RunReporter
) -> ImageRef:
    builder = manifest.builder
    request = BuildRequest(
        repo_dir=repo_dir,
        context_dir=_inside_repo(repo_dir, builder.context, "builder.context"),
        dockerfile=_inside_repo(repo_dir, builder.dockerfile, "builder.dockerfile"),
        build_args={key: _arg_text(value) for key, value in builder.build_args.items()},
        target=builder.target,
    )
    return engine.build(request, on_log=lambda text: reporter.log(_line("build", text)))


def _inside_repo(repo_dir: Path, relative: str, field: str) -> Path:
    """Resolve a manifest path; it must stay inside the repository (symlinks included)."""
    candidate = (repo_dir / relative).resolve()
    if candidate != repo_dir and repo_dir not in candidate.parents:
        raise InvalidInput(
            f"{field}: {relative!r} points outside the repository {repo_dir}", field=field
        )
    return candidate


def _arg_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _submit(
    engine: LocalEngine, manifest: Manifest, facts: ExperimentFacts, image: ImageRef
) -> Workload:
    spec = manifest.spec
    ctx = RunContext(
        experiment_id=facts.experiment_id,
        workload_name=short_name(facts.experiment_id),
        base_env=merged_env(facts, {}, spec.env),
        image=spec.image,
        addressing=engine.new_addressing(),
        builder=manifest.builder,
    )
    plan: ReplicaPlan = operators.get(spec.operator).plan_replicas(spec, ctx)
    check_command(spec.command, image, spec.operator)
    policy = RunPolicy(
        backoff_limit=spec.restart_policy.backoff_limit,
        deadline_seconds=_optional_float(spec.deadline_seconds()),
        shutdown_command=(
            tuple(spec.graceful_termination.shutdown_command) if spec.graceful_termination else None
        ),
        grace_period_seconds=(
            float(spec.graceful_termination.termination_grace_period_seconds)
            if spec.graceful_termination
            else 30.0
        ),
    )
    workload = Workload(plan=plan, image=image, policy=policy)
    engine.submit(workload)
    return workload


def _follow(engine: LocalEngine, workload: Workload, reporter: RunReporter) -> RunOutcome:
    """Stream logs and replica states until the workload ends; Ctrl-C cancels it gracefully."""
    reporter.step(Step.RUNNING, StepStatus.RUNNING)
    done = threading.Event()
    watcher = threading.Thread(
        target=_watch_replicas, args=(engine, workload.name, reporter, done), daemon=True
    )
    watcher.start()
    try:
        for line in engine.follow(workload.name):
            reporter.log(line)
        outcome = engine.wait(workload.name)
    except KeyboardInterrupt:
        reporter.log(_line("aichor", "cancelling: running shutdown commands, then SIGTERM"))
        engine.cancel(workload.name)
        outcome = engine.wait(workload.name)
    finally:
        done.set()
        watcher.join()
    reporter.replicas(engine.observe(workload.name))
    final = _step_status(outcome.status)
    reporter.step(Step.RUNNING, final, outcome.reason)
    reporter.step(Step.COMPLETED, final, outcome.reason)
    return outcome


def _watch_replicas(
    engine: LocalEngine, name: str, reporter: RunReporter, done: threading.Event
) -> None:
    while not done.wait(0.2):
        reporter.replicas(engine.observe(name))


def _step_status(status: ExperimentStatus) -> StepStatus:
    return {
        ExperimentStatus.SUCCEEDED: StepStatus.SUCCEEDED,
        ExperimentStatus.CANCELLED: StepStatus.CANCELLED,
    }.get(status, StepStatus.FAILED)


def _optional_float(value: int | None) -> float | None:
    return None if value is None else float(value)


def _line(source: str, text: str) -> LogLine:
    return LogLine(timestamp=datetime.now(UTC), source=source, text=text)
