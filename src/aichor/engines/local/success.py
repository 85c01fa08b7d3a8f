"""The per-operator success rules: when a gang has succeeded or failed, from replica statuses.

Pure: reads the replica records the gang keeps and returns how the attempt ends, or None
while it goes on. The first failure ends the attempt (the gang stops the rest).
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from aichor.lifecycle import ExperimentStatus, ReplicaStatus
from aichor.replicas import ReplicaKind, ReplicaPlan, ReplicaSpec, SuccessRule

MASTER_TYPE = "Master"


@dataclass(frozen=True)
class GangEnd:
    """How one attempt of the gang ended."""

    status: ExperimentStatus
    exit_code: int
    reason: str
    failed_replica: str | None = None


class _Record(Protocol):
    @property
    def spec(self) -> ReplicaSpec: ...
    @property
    def status(self) -> ReplicaStatus: ...
    @property
    def exit_code(self) -> int | None: ...


def exit_reason(code: int) -> str:
    """A replica's exit code in words: `exited with code 3`, or the signal that killed it
    (128 + n, as a container runtime reports it; SIGKILL is often the kernel's OOM killer)."""
    if code > 128:
        with contextlib.suppress(ValueError):
            name = signal.Signals(code - 128).name
            hint = ", out of memory?" if name == "SIGKILL" else ""
            return f"killed by {name} (exit code {code}{hint})"
    return f"exited with code {code}"


def decide(
    plan: ReplicaPlan, records: Mapping[str, _Record], *, failed: str | None
) -> GangEnd | None:
    """The end of the attempt after a replica exited (`failed` names it when it failed)."""
    if failed is not None:
        code = records[failed].exit_code or 1
        kind = records[failed].spec.kind
        what = "Ray node" if kind in (ReplicaKind.RAY_HEAD, ReplicaKind.RAY_WORKER) else "replica"
        reason = f"{what} {failed} failed with exit code {code}"
        return GangEnd(ExperimentStatus.FAILED, code, reason, failed_replica=failed)
    succeeded = _success(plan, records)
    return None if succeeded is None else GangEnd(ExperimentStatus.SUCCEEDED, 0, succeeded)


def _success(plan: ReplicaPlan, records: Mapping[str, _Record]) -> str | None:
    """Why the gang has succeeded, or None while it has not."""
    done = {name for name, r in records.items() if r.status == ReplicaStatus.SUCCEEDED}
    if plan.success == SuccessRule.DRIVER:
        drivers = [r.name for r in plan.replicas if r.kind == ReplicaKind.RAY_DRIVER]
        return f"driver {drivers[0]} succeeded" if drivers and drivers[0] in done else None
    masters = [r.name for r in plan.replicas if r.replica_type == MASTER_TYPE]
    if plan.success == SuccessRule.MASTER and masters:
        return f"Master {masters[0]} succeeded" if set(masters) <= done else None
    # ALL (and MASTER without a Master replica, as upstream: then every worker must succeed).
    tasks = [r.name for r in plan.replicas if r.kind == ReplicaKind.TASK]
    return f"all {len(tasks)} replicas succeeded" if set(tasks) <= done else None
