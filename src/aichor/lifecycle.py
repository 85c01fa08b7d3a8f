"""The experiment state machine: steps, step statuses, experiment and replica statuses.

This is the only place status values are defined. Transitions are checked with `can_move`.
"""

from __future__ import annotations

from enum import StrEnum


class Step(StrEnum):
    WAITING = "Waiting"
    CLONING = "Cloning"
    BUILDING = "Building"
    SUBMITTING = "Submitting"
    RUNNING = "Running"
    COMPLETED = "Completed"


STEP_ORDER: tuple[Step, ...] = tuple(Step)


class StepStatus(StrEnum):
    INITIALIZE = "Initialize"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    CANCELLED = "Cancelled"


class ExperimentStatus(StrEnum):
    CREATED = "Created"
    PROCESSING = "Processing"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    CANCELLED = "Cancelled"


class ReplicaStatus(StrEnum):
    """What an engine reports for one replica (a pod, a container, a process)."""

    PENDING = "Pending"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    CANCELLED = "Cancelled"


TERMINAL_STEP = frozenset({StepStatus.SUCCEEDED, StepStatus.FAILED, StepStatus.CANCELLED})
TERMINAL_EXPERIMENT = frozenset(
    {ExperimentStatus.SUCCEEDED, ExperimentStatus.FAILED, ExperimentStatus.CANCELLED}
)
TERMINAL_REPLICA = frozenset(
    {ReplicaStatus.SUCCEEDED, ReplicaStatus.FAILED, ReplicaStatus.CANCELLED}
)

_STEP_MOVES: dict[StepStatus, frozenset[StepStatus]] = {
    StepStatus.INITIALIZE: frozenset({StepStatus.RUNNING, StepStatus.CANCELLED, StepStatus.FAILED}),
    StepStatus.RUNNING: frozenset(TERMINAL_STEP),
    StepStatus.SUCCEEDED: frozenset(),
    StepStatus.FAILED: frozenset(),
    StepStatus.CANCELLED: frozenset(),
}

_EXPERIMENT_MOVES: dict[ExperimentStatus, frozenset[ExperimentStatus]] = {
    ExperimentStatus.CREATED: frozenset({ExperimentStatus.PROCESSING} | TERMINAL_EXPERIMENT),
    ExperimentStatus.PROCESSING: frozenset(TERMINAL_EXPERIMENT),
    ExperimentStatus.SUCCEEDED: frozenset(),
    ExperimentStatus.FAILED: frozenset(),
    ExperimentStatus.CANCELLED: frozenset(),
}


def can_move_step(current: StepStatus, new: StepStatus) -> bool:
    """True when a step may go from `current` to `new`."""
    return new in _STEP_MOVES[current]


def can_move_experiment(current: ExperimentStatus, new: ExperimentStatus) -> bool:
    """True when an experiment may go from `current` to `new`."""
    return new in _EXPERIMENT_MOVES[current]
