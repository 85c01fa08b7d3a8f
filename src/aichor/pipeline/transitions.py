"""The only writer of status and step columns: every move is checked against `lifecycle`.

Callers hold a guarded row (`claim.guard`, or the service's compare-and-set for a queued
experiment) and pass the loaded `tables.Experiment`; nothing here commits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from aichor.db import tables
from aichor.lifecycle import (
    STEP_ORDER,
    TERMINAL_STEP,
    ExperimentStatus,
    Step,
    StepStatus,
    can_move_experiment,
    can_move_step,
)


class IllegalMove(RuntimeError):
    """A transition the lifecycle table forbids (a bug, never user input)."""


def new_steps(experiment_id: str, now: datetime) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """A fresh experiment: Created, queued in Waiting, every later step Initialize.

    Returns its status columns and its step rows, for the submission's Core INSERTs (no ORM
    objects: building and flushing them cost more than the rest of a submission).
    """
    status = {"status": ExperimentStatus.CREATED.value, "current_step": Step.WAITING.value}
    steps = [
        {
            "id": tables.new_id(),
            "experiment_id": experiment_id,
            "step": step.value,
            "position": position,
            "status": (StepStatus.RUNNING if step == Step.WAITING else StepStatus.INITIALIZE).value,
            "message": "",
            "started_at": now if step == Step.WAITING else None,
            "finished_at": None,
        }
        for position, step in enumerate(STEP_ORDER)
    ]
    return status, steps


def advance(
    session: Session,
    experiment: tables.Experiment,
    step: Step,
    status: StepStatus,
    message: str = "",
) -> None:
    """Move `step` to `status`; a step that starts becomes the current one (Processing)."""
    row = _step_row(experiment, step)
    current = StepStatus(row.status)
    if current == status:
        return
    if not can_move_step(current, status):
        raise IllegalMove(f"{experiment.id} {step}: {current} → {status}")
    row.status = status
    if message:
        row.message = message
    now = tables.utcnow()
    if status == StepStatus.RUNNING:
        row.started_at = now
        experiment.current_step = step
        _move_experiment(experiment, ExperimentStatus.PROCESSING)
    elif status in TERMINAL_STEP:
        row.started_at = row.started_at or now
        row.finished_at = now
    experiment.updated_at = now
    session.flush()


def finish(
    session: Session,
    experiment: tables.Experiment,
    status: ExperimentStatus,
    reason: str = "",
) -> None:
    """End the experiment: the current step and Completed take the outcome, the rest Cancelled."""
    step_status = {
        ExperimentStatus.SUCCEEDED: StepStatus.SUCCEEDED,
        ExperimentStatus.CANCELLED: StepStatus.CANCELLED,
    }.get(status, StepStatus.FAILED)
    for row in experiment.steps:
        if StepStatus(row.status) in TERMINAL_STEP:
            continue
        if row.step == experiment.current_step or row.step == Step.COMPLETED:
            if row.step == Step.COMPLETED and StepStatus(row.status) == StepStatus.INITIALIZE:
                advance(session, experiment, Step.COMPLETED, StepStatus.RUNNING)
            advance(session, experiment, Step(row.step), step_status, reason)
        else:
            advance(session, experiment, Step(row.step), StepStatus.CANCELLED)
    experiment.current_step = Step.COMPLETED
    _move_experiment(experiment, status)
    if reason and status != ExperimentStatus.SUCCEEDED:
        experiment.failure_reason = reason
    experiment.finished_at = tables.utcnow()
    experiment.claimed_by = None
    experiment.claim_expires_at = None
    session.flush()


def _move_experiment(experiment: tables.Experiment, status: ExperimentStatus) -> None:
    current = ExperimentStatus(experiment.status)
    if current == status:
        return
    if not can_move_experiment(current, status):
        raise IllegalMove(f"{experiment.id}: {current} → {status}")
    experiment.status = status
    if status == ExperimentStatus.PROCESSING and experiment.started_at is None:
        experiment.started_at = tables.utcnow()


def _step_row(experiment: tables.Experiment, step: Step) -> tables.ExperimentStep:
    for row in experiment.steps:
        if row.step == step:
            return row
    raise IllegalMove(f"{experiment.id} has no {step} step")


def admit(session: Session, experiment: tables.Experiment) -> None:
    """Leave the queue: Waiting succeeds, Cloning is next (Initialize until a worker starts it)."""
    advance(
        session, experiment, Step.WAITING, StepStatus.SUCCEEDED, "the engine can place the gang"
    )
    experiment.current_step = Step.CLONING
    _move_experiment(experiment, ExperimentStatus.PROCESSING)
    session.flush()
