"""One experiment on the local engine: attempts with backoff restarts, cancel, deadline, outcome.

Runs in its own thread. Each attempt is a `Gang`; when an attempt fails and
`policy.backoff_limit` allows, the whole gang is started again (as the Kubernetes operators
restart a failed job's pods). The deadline counts from submission, across restarts.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from aichor.engines.base import RunOutcome, Workload
from aichor.engines.local.capacity import Shares
from aichor.engines.local.gang import ENGINE_SOURCE, Gang, GangParts, ReplicaRecord
from aichor.engines.local.log_files import LogStore
from aichor.engines.local.ports import LoopbackAddressing
from aichor.engines.local.reaper import Reaper
from aichor.engines.local.success import GangEnd
from aichor.lifecycle import ExperimentStatus, ReplicaStatus
from aichor.replicas import ReplicaState


class Supervisor:
    """Runs one workload to its outcome in a background thread."""

    def __init__(
        self,
        workload: Workload,
        *,
        folder: Path,
        shares: Shares,
        reaper: Reaper,
        token: str,
        addressings: list[LoopbackAddressing],
        notes: list[str],
    ) -> None:
        self.workload = workload
        self.folder = folder
        self.logs = LogStore(folder / "logs")
        self._shares = shares
        self._reaper = reaper
        self._token = token
        self._addressings = addressings
        """Port reservations to give back when the workload ends (the operator's and ours)."""
        self._records = {r.name: ReplicaRecord(spec=r) for r in workload.plan.replicas}
        self._lock = threading.Lock()
        self._gang: Gang | None = None
        self._cancelled = False
        self._outcome: RunOutcome | None = None
        self._done = threading.Event()
        policy = workload.policy
        started = time.monotonic()
        self._deadline = started + policy.deadline_seconds if policy.deadline_seconds else None
        for note in notes:
            self.logs.write(ENGINE_SOURCE, note)
        self._thread = threading.Thread(target=self._run, name=f"run-{workload.name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def states(self) -> list[ReplicaState]:
        with self._lock:
            return [record.state() for record in self._records.values()]

    def leaders(self) -> dict[str, int]:
        """Running replica → the pid leading its session (for resource sampling)."""
        with self._lock:
            return {
                name: record.process.pid
                for name, record in self._records.items()
                if record.status == ReplicaStatus.RUNNING and record.process is not None
            }

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            gang = self._gang
        if gang is not None:
            gang.post("cancel")

    def wait(self, timeout: float | None = None) -> RunOutcome:
        if not self._done.wait(timeout):
            raise TimeoutError(f"{self.workload.name} still running after {timeout}s")
        if self._outcome is None:
            raise RuntimeError(f"{self.workload.name} finished without an outcome")
        return self._outcome

    def _run(self) -> None:
        end = GangEnd(ExperimentStatus.FAILED, 1, "aichor stopped")
        try:
            end = self._attempts()
        except Exception as error:  # the outcome must be recorded whatever went wrong
            end = GangEnd(ExperimentStatus.FAILED, 1, f"the local engine failed: {error}")
            self.logs.write(ENGINE_SOURCE, end.reason)
        finally:
            self._finish(end)

    def _attempts(self) -> GangEnd:
        policy = self.workload.policy
        end = GangEnd(ExperimentStatus.CANCELLED, 130, "cancelled")
        for attempt in range(policy.backoff_limit + 1):
            gang = self._new_gang(attempt)
            if gang is None:
                return GangEnd(ExperimentStatus.CANCELLED, 130, "cancelled")
            end = gang.run()
            if end.status != ExperimentStatus.FAILED or end.reason.startswith("timed out"):
                return end
            if attempt < policy.backoff_limit:
                self.logs.write(
                    ENGINE_SOURCE,
                    f"attempt {attempt + 1} failed ({end.reason}); restarting the whole gang "
                    f"(restart {attempt + 1} of {policy.backoff_limit})",
                )
        return end

    def _new_gang(self, attempt: int) -> Gang | None:
        """The next attempt's gang, or None when a cancel arrived first."""
        with self._lock:
            if self._cancelled:
                return None
            for record in self._records.values():
                if attempt:
                    record.restarts = attempt
                record.status, record.exit_code, record.reason = ReplicaStatus.PENDING, None, None
            parts = GangParts(
                workload=self.workload,
                records=self._records,
                logs=self.logs,
                shares=self._shares,
                reaper=self._reaper,
                token=self._token,
                ports=self._addressings[-1],
                folder=self.folder,
                deadline=self._deadline,
            )
            self._gang = Gang(parts)
            return self._gang

    def _finish(self, end: GangEnd) -> None:
        outcome = RunOutcome(
            status=end.status,
            exit_code=end.exit_code,
            reason=end.reason,
            failed_replica=end.failed_replica,
        )
        self.logs.write(ENGINE_SOURCE, f"{self.workload.name} {end.status.value}: {end.reason}")
        record = {
            "status": outcome.status.value,
            "exit_code": outcome.exit_code,
            "reason": outcome.reason,
            "failed_replica": outcome.failed_replica,
        }
        (self.folder / "outcome.json").write_text(json.dumps(record, indent=2) + "\n")
        for addressing in self._addressings:
            addressing.release()
        self.logs.close()
        self._outcome = outcome
        self._done.set()
