"""LocalEngine: the Engine protocol on this machine, replicas as supervised child processes.

The runner (and the embedded server's pipeline) call it: `new_addressing` for the operator,
`build`, `check_capacity`, `submit`, then `observe` / `logs` / `follow` / `wait`, or `cancel`.
Per-run folders live under `state_dir/<workload>/` (logs, pids, outcome.json).
"""

from __future__ import annotations

import threading
import uuid
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path

from aichor.engines.base import BuildRequest, ImageRef, RunOutcome, Workload
from aichor.engines.local import build as local_build
from aichor.engines.local import ray_nodes, sandbox
from aichor.engines.local.capacity import Machine, Shares, check_plan, detect_machine
from aichor.engines.local.log_files import LogStore, read_records
from aichor.engines.local.ports import LoopbackAddressing
from aichor.engines.local.reaper import Reaper
from aichor.engines.local.sampling import ProcessSampler
from aichor.engines.local.shell import PtyShell, open_replica_shell
from aichor.engines.local.supervisor import Supervisor
from aichor.errors import NotFound
from aichor.logs.records import LogRecords
from aichor.replicas import LogLine, MetricSample, ReplicaKind, ReplicaPlan, ReplicaState


class LocalEngine:
    """Runs workloads as process gangs on this machine; satisfies `aichor.engines.base.Engine`."""

    def __init__(self, state_dir: Path, cache_dir: Path) -> None:
        self.state_dir = state_dir
        self.cache_dir = cache_dir
        self.token = uuid.uuid4().hex
        """Carried by every replica process (AICHOR_ENGINE_TOKEN) so the reaper finds them all."""
        self._lock = threading.Lock()
        self._machine: Machine | None = None
        self._shares: Shares | None = None
        self._reaper: Reaper | None = None
        self._supervisors: dict[str, Supervisor] = {}
        self._addressings: weakref.WeakSet[LoopbackAddressing] = weakref.WeakSet()
        self._sampler = ProcessSampler()

    def new_addressing(self) -> LoopbackAddressing:
        """127.0.0.1 and ports reserved for one experiment (released when it ends)."""
        addressing = LoopbackAddressing()
        self._addressings.add(addressing)
        return addressing

    def build(self, request: BuildRequest, on_log: Callable[[str], None]) -> ImageRef:
        return local_build.build_image(request, cache_dir=self.cache_dir, on_log=on_log)

    def check_capacity(self, plan: ReplicaPlan) -> list[str]:
        """Conflict (with the numbers) when the plan cannot fit; notes on what is not enforced."""
        return check_plan(plan, self._machine_info())

    def submit(self, workload: Workload) -> None:
        """Start the workload in the background; a second submit of the same name does nothing."""
        with self._lock:
            if workload.name in self._supervisors:
                return
        notes = self.check_capacity(workload.plan)
        if any(r.kind == ReplicaKind.RAY_HEAD for r in workload.plan.replicas):
            ray_nodes.ray_executable(sandbox.image_environment(workload.image))
        shares = self._shares_for_run()
        with self._lock:
            if workload.name in self._supervisors:
                return
            folder = self.state_dir / workload.name
            folder.mkdir(parents=True, exist_ok=True)
            supervisor = Supervisor(
                workload,
                folder=folder,
                shares=shares,
                reaper=self._reaper_process(),
                token=self.token,
                addressings=[*self._adopt_addressings(workload), LoopbackAddressing()],
                notes=notes,
            )
            self._supervisors[workload.name] = supervisor
        supervisor.start()

    def observe(self, name: str) -> list[ReplicaState]:
        return self._supervisor(name).states()

    def logs(self, name: str, replica: str | None = None, after: int = 0) -> list[LogLine]:
        """Lines after the first `after` of one replica, or of all (interleaved, arrival order)."""
        with self._lock:
            supervisor = self._supervisors.get(name)
        if supervisor is not None:
            return supervisor.logs.read(replica, after)
        folder = self.state_dir / name / "logs"
        if not folder.is_dir():
            raise NotFound(f"no workload named {name} on this engine")
        return LogStore(folder).read(replica, after)

    def read_log(self, name: str, offset: int = 0) -> LogRecords:
        """Every replica's records (interleaved, arrival order) from byte `offset` of the stream."""
        return read_records(self.state_dir / name / "logs", offset)

    def follow(self, name: str, after: int = 0, poll: float = 0.05) -> Iterator[LogLine]:
        """Every line from `after` on, as it arrives, until the workload has finished."""
        supervisor = self._supervisor(name)
        while True:
            finished = supervisor.done  # read before the lines: nothing is written after done
            lines = supervisor.logs.read(None, after)
            after += len(lines)
            yield from lines
            if finished and not lines:
                return
            if not lines:
                supervisor.logs.wait_beyond(after, timeout=poll)

    def sample(self, name: str) -> list[MetricSample]:
        """CPU, memory (and GPU with NVML) of each running replica's process tree."""
        supervisor = self._supervisor(name)
        if supervisor.done:
            self._sampler.forget(name)
            return []
        return self._sampler.sample(name, supervisor.leaders())

    def cancel(self, name: str) -> None:
        """Shutdown command, SIGTERM, then SIGKILL after the grace period; idempotent."""
        self._supervisor(name).cancel()

    def open_shell(self, name: str, replica: str) -> PtyShell:
        """A shell in the running replica (its environment, files and working directory)."""
        self._supervisor(name)
        return open_replica_shell(self.state_dir / name, replica)

    def wait(self, name: str, timeout: float | None = None) -> RunOutcome:
        """The outcome; raises TimeoutError if the workload is still running after `timeout`."""
        return self._supervisor(name).wait(timeout)

    def close(self) -> None:
        """Cancel what still runs, wait for it, and stop the reaper."""
        with self._lock:
            supervisors = list(self._supervisors.values())
        for supervisor in supervisors:
            supervisor.cancel()
        for supervisor in supervisors:
            supervisor.wait()
        if self._reaper is not None:
            self._reaper.close()
            self._reaper = None

    def _supervisor(self, name: str) -> Supervisor:
        with self._lock:
            supervisor = self._supervisors.get(name)
        if supervisor is None:
            raise NotFound(f"no workload named {name} on this engine")
        return supervisor

    def _machine_info(self) -> Machine:
        with self._lock:
            if self._machine is None:
                self._machine = detect_machine()
                self._shares = Shares(self._machine)
            return self._machine

    def _shares_for_run(self) -> Shares:
        self._machine_info()
        if self._shares is None:
            raise RuntimeError("machine capacity was not detected")
        return self._shares

    def _reaper_process(self) -> Reaper:
        if self._reaper is None:
            self._reaper = Reaper(self.token)
        return self._reaper

    def _adopt_addressings(self, workload: Workload) -> list[LoopbackAddressing]:
        """The addressings the operator used for this plan: their ports go when it ends."""
        names = {r.name for r in workload.plan.replicas}
        adopted = [a for a in list(self._addressings) if a.replica_names() & names]
        for addressing in adopted:
            self._addressings.discard(addressing)
        return adopted
