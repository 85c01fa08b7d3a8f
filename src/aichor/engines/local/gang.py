"""One attempt of an experiment's gang: start the replicas, watch them, decide, stop the rest.

The supervisor runs a `Gang` per attempt (backoff restarts make a new one). Replica threads
only post events (`exit`, `ready`) to the gang's queue; the gang's own thread is the only one
that changes replica statuses before the stop, so the success rules read a consistent picture.
"""

from __future__ import annotations

import queue
import shutil
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from aichor.engines.base import Workload
from aichor.engines.local import ray_nodes, sandbox
from aichor.engines.local.capacity import Share, Shares
from aichor.engines.local.log_files import LogStore
from aichor.engines.local.ports import LoopbackAddressing
from aichor.engines.local.processes import ReplicaProcess, kill_tree, run_bounded, terminate
from aichor.engines.local.reaper import TOKEN, Reaper
from aichor.engines.local.success import GangEnd, decide, exit_reason
from aichor.lifecycle import ExperimentStatus, ReplicaStatus
from aichor.replicas import ReplicaKind, ReplicaSpec, ReplicaState

ENGINE_SOURCE = "aichor"
_NODE_KINDS = (ReplicaKind.RAY_HEAD, ReplicaKind.RAY_WORKER)


@dataclass
class ReplicaRecord:
    """What the engine knows about one replica across attempts."""

    spec: ReplicaSpec
    status: ReplicaStatus = ReplicaStatus.PENDING
    exit_code: int | None = None
    restarts: int = 0
    reason: str | None = None
    process: ReplicaProcess | None = field(default=None, repr=False)
    share: Share | None = None

    def state(self) -> ReplicaState:
        return ReplicaState(self.spec.name, self.status, self.exit_code, self.restarts, self.reason)


@dataclass
class GangParts:
    """What a gang borrows from its supervisor and engine."""

    workload: Workload
    records: dict[str, ReplicaRecord]
    logs: LogStore
    shares: Shares
    reaper: Reaper
    token: str
    ports: LoopbackAddressing
    folder: Path
    deadline: float | None
    """`time.monotonic()` instant of the experiment's deadline, if any."""


class Gang:
    """One attempt: every replica of the plan, started, watched and stopped."""

    def __init__(self, parts: GangParts) -> None:
        self.parts = parts
        self.plan = parts.workload.plan
        self.events: queue.Queue[tuple[str, str, int]] = queue.Queue()
        self._pending: dict[str, deque[str]] = defaultdict(deque)
        self._running: dict[str, int] = defaultdict(int)
        self._ready: set[str] = set()
        self._temp_dir: Path | None = None

    def note(self, text: str) -> None:
        self.parts.logs.write(ENGINE_SOURCE, text)

    def run(self) -> GangEnd:
        try:
            self._start()
            end = self._watch()
        except BaseException:
            self._stop(GangEnd(ExperimentStatus.FAILED, 1, "aichor stopped"), graceful=False)
            raise
        self._stop(end, graceful=end.reason.startswith(("cancelled", "timed out")))
        return end

    def post(self, kind: str, name: str = "", code: int = 0) -> None:
        self.events.put((kind, name, code))

    # -- starting ---------------------------------------------------------------------------

    def _start(self) -> None:
        nodes = [r for r in self.plan.replicas if r.kind in _NODE_KINDS]
        if nodes:
            self._temp_dir = ray_nodes.make_temp_dir()
            self.parts.reaper.remove_on_exit(self._temp_dir)
        for spec in self.plan.replicas:
            if spec.kind == ReplicaKind.TASK:
                self._pending[spec.job].append(spec.name)
        for spec in nodes:  # head and workers together: workers wait for the GCS themselves
            self._spawn(spec, self._node_argv(spec))
        for job in list(self._pending):
            self._fill(job)

    def _fill(self, job: str) -> None:
        """Start the job's next replicas while it is under its parallelism."""
        limit = self.plan.parallelism.get(job) or len(self.plan.replicas)
        while self._pending[job] and self._running[job] < limit:
            spec = self.parts.records[self._pending[job].popleft()].spec
            self._running[job] += 1
            self._spawn(spec, ["/bin/sh", "-c", spec.command])

    def _node_argv(self, spec: ReplicaSpec) -> list[str]:
        if self._temp_dir is None:
            raise RuntimeError("Ray temp dir missing")
        ray = ray_nodes.ray_executable(sandbox.image_environment(self.parts.workload.image))
        argv = ray_nodes.node_argv(ray, spec, self.parts.ports, self._temp_dir)
        return [*argv, "--log-color=false"]

    def _spawn(self, spec: ReplicaSpec, argv: list[str]) -> None:
        record = self.parts.records[spec.name]
        share = self._share_for(spec)
        env = self._environment(spec, share)
        name = spec.name
        key = f"{self.parts.token}/{self.plan.workload_name}/{name}/{record.restarts}"
        try:
            record.process = ReplicaProcess(
                sandbox.wrap_command(self.parts.workload.image, argv, self.parts.workload.mounts),
                env,
                key=key,
                on_lines=lambda texts: self._lines(name, texts),
                on_exit=lambda code: self.post("exit", name, code),
                cores=share.cores,
            )
        except OSError as error:
            self.note(f"{name} could not start: {error}")
            self.parts.shares.release(share)
            self.post("exit", name, 127)
            return
        record.share, record.status, record.exit_code = share, ReplicaStatus.RUNNING, None
        self.parts.reaper.watch_session(record.process.pid)
        with (self.parts.folder / "pids").open("a") as pids:
            pids.write(f"{record.process.pid} {name} attempt={record.restarts}\n")
        if spec.kind == ReplicaKind.RAY_HEAD and spec.ray is not None:
            ray_nodes.write_endpoints(self.parts.folder, spec.ray)

    def _share_for(self, spec: ReplicaSpec) -> Share:
        if spec.kind == ReplicaKind.RAY_DRIVER:
            # The driver runs on the head and shares the head's cores and GPUs.
            head = next(
                r for r in self.parts.records.values() if r.spec.kind == ReplicaKind.RAY_HEAD
            )
            return Share(cores=None, gpus=head.share.gpus if head.share else ())
        # Ray nodes are not pinned: a node's GCS, dashboard and raylet on one core start several
        # times slower, and Ray itself bounds task concurrency with --num-cpus.
        pin = spec.kind == ReplicaKind.TASK
        share = self.parts.shares.acquire(spec.resources, pin=pin)
        if pin and share.cores is None:
            self.note(f"{spec.name}: not pinned to CPU cores (no {spec.resources.cpus:g} free)")
        return share

    def _environment(self, spec: ReplicaSpec, share: Share) -> dict[str, str]:
        env = sandbox.image_environment(self.parts.workload.image)
        env.update(spec.env)
        if spec.kind == ReplicaKind.RAY_DRIVER:
            head = next(r for r in self.plan.replicas if r.kind == ReplicaKind.RAY_HEAD)
            if head.ray is not None:
                env.setdefault("RAY_ADDRESS", f"{head.ray.gcs_host}:{head.ray.gcs_port}")
        if "CUDA_VISIBLE_DEVICES" not in spec.env:
            # Empty when no GPU was requested: like a pod without a GPU limit, it sees none.
            env["CUDA_VISIBLE_DEVICES"] = ",".join(str(g) for g in share.gpus)
        env[TOKEN] = self.parts.token
        env["AICHOR_WORKLOAD"] = self.plan.workload_name
        return ray_nodes.node_env(env) if spec.kind in _NODE_KINDS else env

    def _replica_note(self, name: str) -> Callable[[str], None]:
        return lambda text: self.note(f"{name}: {text}")

    def _lines(self, name: str, texts: list[str]) -> None:
        self.parts.logs.write_many(name, texts)
        if name not in self._ready and any(ray_nodes.READY_MARKER in text for text in texts):
            self.post("ready", name)

    # -- watching ---------------------------------------------------------------------------

    def _watch(self) -> GangEnd:
        while True:
            try:
                kind, name, code = self.events.get(timeout=self._until_deadline())
            except queue.Empty:
                kind, name, code = "timeout", "", 0
            end = self._handle(kind, name, code)
            if end is not None:
                return end

    def _until_deadline(self) -> float | None:
        if self.parts.deadline is None:
            return None
        return max(self.parts.deadline - time.monotonic(), 0)

    def _handle(self, kind: str, name: str, code: int) -> GangEnd | None:
        if kind == "cancel":
            return GangEnd(ExperimentStatus.CANCELLED, 130, "cancelled")
        if kind == "timeout":
            seconds = self.parts.workload.policy.deadline_seconds or 0
            return GangEnd(ExperimentStatus.FAILED, 124, f"timed out after {seconds:g}s")
        if kind == "ready":
            self._on_ready(name)
            return None
        return self._on_exit(name, code)

    def _on_ready(self, name: str) -> None:
        self._ready.add(name)
        nodes = {r.name for r in self.plan.replicas if r.kind in _NODE_KINDS}
        if nodes <= self._ready:
            self.note(f"Ray cluster ready: {len(nodes)} node(s) joined; starting the driver")
            for spec in self.plan.replicas:
                if spec.kind == ReplicaKind.RAY_DRIVER:
                    self._spawn(spec, ["/bin/sh", "-c", spec.command])

    def _on_exit(self, name: str, code: int) -> GangEnd | None:
        record = self.parts.records[name]
        if record.status != ReplicaStatus.RUNNING:
            return None
        self._release(record)
        record.exit_code = code
        record.status = ReplicaStatus.SUCCEEDED if code == 0 else ReplicaStatus.FAILED
        if code != 0 or record.spec.kind in _NODE_KINDS:
            record.status = ReplicaStatus.FAILED
            record.reason = exit_reason(code)
            return decide(self.plan, self.parts.records, failed=name)
        if record.spec.kind == ReplicaKind.TASK:
            self._running[record.spec.job] -= 1
            self._fill(record.spec.job)
        return decide(self.plan, self.parts.records, failed=None)

    def _release(self, record: ReplicaRecord) -> None:
        if record.process is not None:
            self.parts.reaper.forget_session(record.process.pid)
        if record.share is not None and record.spec.kind != ReplicaKind.RAY_DRIVER:
            self.parts.shares.release(record.share)
        record.share = None

    # -- stopping ---------------------------------------------------------------------------

    def _stop(self, end: GangEnd, *, graceful: bool) -> None:
        """Stop every replica still running, in parallel; mark what never started."""
        policy = self.parts.workload.policy
        started = time.monotonic()
        threads = []
        for record in self.parts.records.values():
            if record.status == ReplicaStatus.PENDING:
                record.status, record.reason = ReplicaStatus.CANCELLED, f"not started: {end.reason}"
            elif record.status == ReplicaStatus.RUNNING and record.process is not None:
                args = (record, started + policy.grace_period_seconds, graceful, end)
                threads.append(threading.Thread(target=self._stop_one, args=args, daemon=True))
        if threads:
            self.note(f"stopping {len(threads)} replica(s): {end.reason}")
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)

    def _stop_one(
        self, record: ReplicaRecord, deadline: float, graceful: bool, end: GangEnd
    ) -> None:
        if record.process is None:
            return
        name = record.spec.name
        if not record.process.running():
            # It exited on its own while the stop began: report what it did, not a stop.
            record.process.wait(10)
            self._release(record)
            code = record.process.exit_code
            record.exit_code = code
            record.status = ReplicaStatus.SUCCEEDED if code == 0 else ReplicaStatus.FAILED
            return
        command = self.parts.workload.policy.shutdown_command
        if graceful and command:
            self.note(f"{name}: running the shutdown command")
            env = self._environment(record.spec, record.share or Share(None, ()))
            workload = self.parts.workload
            argv = sandbox.wrap_command(workload.image, list(command), workload.mounts)
            timeout = deadline - time.monotonic()
            code = run_bounded(argv, env, timeout=timeout, on_lines=lambda t: self._lines(name, t))
            if code is None:
                self.note(f"{name}: shutdown command still running at the end of the grace period")
        node = record.spec.kind in _NODE_KINDS
        if node and not graceful:
            # The driver is done (or the gang failed): a Ray node holds nothing worth a grace
            # period, and `ray start --block` takes seconds to pass a SIGTERM on. Kill the tree.
            kill_tree(record.process.pid, record.process.key)
            record.process.wait(10)
        else:
            note = self._replica_note(name)
            terminate(record.process, deadline, note, signal_group=not node)
        self._release(record)
        succeeded = end.status == ExperimentStatus.SUCCEEDED and node
        # A node stopped because its driver succeeded did its job: like a pod of a deleted
        # RayCluster, it reports no failure of its own.
        record.exit_code = 0 if succeeded else record.process.exit_code
        record.status = ReplicaStatus.SUCCEEDED if succeeded else ReplicaStatus.CANCELLED
        record.reason = f"stopped: {end.reason}"
