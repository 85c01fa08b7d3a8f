"""DetachedLocalEngine: the local engine for the server, whose runs survive a server crash.

`LocalEngine` supervises in-process, and its reaper kills every replica when aichor dies: right
for `aichor run`. The server instead starts one `supervise` process per workload in its own
session (see `supervise.py`) and only reads what it leaves in `state_dir/<workload>/`: replica
states, logs and `outcome.json`. After a restart the server re-attaches by reading those files;
a supervisor that died without an outcome is detected by its free lock file.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pickle
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from aichor.engines.base import BuildRequest, ImageRef, RunOutcome, Workload
from aichor.engines.local import build as local_build
from aichor.engines.local.capacity import check_plan, detect_machine
from aichor.engines.local.log_files import LogStore, read_records, stream_size
from aichor.engines.local.ports import LoopbackAddressing
from aichor.engines.local.reaper import TOKEN
from aichor.engines.local.sampling import ProcessSampler
from aichor.engines.local.shell import PtyShell, open_replica_shell
from aichor.errors import Conflict, NotFound
from aichor.lifecycle import ExperimentStatus, ReplicaStatus
from aichor.logs.records import LogRecords
from aichor.replicas import LogLine, MetricSample, ReplicaPlan, ReplicaState

_START_TIMEOUT = 60.0


class DetachedLocalEngine:
    """Satisfies `aichor.engines.base.Engine`; adds `outcome`, `forget` and `endpoints`."""

    def __init__(self, state_dir: Path, cache_dir: Path) -> None:
        self.state_dir = state_dir
        self.cache_dir = cache_dir
        self._lock = threading.Lock()
        self._addressings: dict[str, LoopbackAddressing] = {}
        self._sampler = ProcessSampler()

    def new_addressing(self, name: str) -> LoopbackAddressing:
        """Loopback ports for workload `name`, reserved in this process until `forget(name)`."""
        with self._lock:
            return self._addressings.setdefault(name, LoopbackAddressing())

    def build(self, request: BuildRequest, on_log: Callable[[str], None]) -> ImageRef:
        return local_build.build_image(request, cache_dir=self.cache_dir, on_log=on_log)

    def check_capacity(self, plan: ReplicaPlan) -> list[str]:
        return check_plan(plan, detect_machine())

    def submit(self, workload: Workload) -> None:
        """Start the workload's supervisor; nothing happens if it was started before."""
        folder = self.state_dir / workload.name
        if (folder / "workload.pickle").exists() and (
            self.alive(workload.name) or self.has_outcome(workload.name)
        ):
            return
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / "workload.tmp"
        temporary.unlink(missing_ok=True)
        # Owner-only: the replicas' environment holds the project's decrypted sensitive variables.
        with os.fdopen(
            os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb"
        ) as out:
            out.write(pickle.dumps(workload))
        os.replace(temporary, folder / "workload.pickle")
        (folder / "supervisor.json").unlink(missing_ok=True)
        env = {k: v for k, v in os.environ.items() if k != TOKEN}
        with (folder / "supervise.err").open("ab") as errors:
            child = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                [sys.executable, "-m", "aichor.engines.local.supervise", str(folder)],
                stdin=subprocess.DEVNULL,
                stdout=errors,
                stderr=errors,
                env=env,
                start_new_session=True,
            )
        # A waiter thread reaps the child whenever it ends; nothing else holds on to it.
        threading.Thread(target=child.wait, name=f"reap-{workload.name}", daemon=True).start()
        self._wait_started(folder, child)

    def observe(self, name: str) -> list[ReplicaState]:
        path = self._folder(name) / "states.json"
        if not path.is_file():
            return []
        return [
            ReplicaState(
                name=item["name"],
                status=ReplicaStatus(item["status"]),
                exit_code=item["exit_code"],
                restarts=item["restarts"],
                reason=item["reason"],
            )
            for item in json.loads(path.read_text())
        ]

    def logs(self, name: str, replica: str | None = None, after: int = 0) -> list[LogLine]:
        folder = self._folder(name) / "logs"
        if not folder.is_dir():
            return []
        store = LogStore(folder)
        try:
            return store.read(replica, after)
        finally:
            store.close()

    def sample(self, name: str) -> list[MetricSample]:
        """Resource use of each running replica (its pid from the supervisor's `pids` file)."""
        running = {s.name for s in self.observe(name) if s.status == ReplicaStatus.RUNNING}
        path = self._folder(name) / "pids"
        if not running or not path.is_file():
            return []
        leaders: dict[str, int] = {}
        for line in path.read_text().splitlines():  # `<pid> <replica> attempt=<n>`, in order
            pid, _, rest = line.partition(" ")
            replica = rest.partition(" ")[0]
            if pid.isdigit() and replica in running:
                leaders[replica] = int(pid)  # a later attempt's line replaces an earlier one
        return self._sampler.sample(name, leaders)

    def endpoints(self, name: str) -> dict[str, str]:
        """Web endpoints the running workload serves (`ray-dashboard`), none once it ended."""
        folder = self._folder(name)
        path = folder / "endpoints.json"
        if not path.is_file() or self.has_outcome(name):
            return {}
        found = json.loads(path.read_text())
        return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}

    def read_log(self, name: str, offset: int = 0) -> LogRecords:
        """Every replica's records (interleaved, arrival order) from byte `offset` of the stream."""
        return read_records(self._folder(name) / "logs", offset)

    def log_size(self, name: str) -> int:
        """The size in bytes of the stream `read_log` reads: it grows with every record."""
        return stream_size(self._folder(name) / "logs")

    def delete_logs(self, name: str) -> None:
        """Remove the workload's log files (retention); the run folder's other files stay."""
        shutil.rmtree(self._folder(name) / "logs", ignore_errors=True)

    def cancel(self, name: str) -> None:
        """Ask the supervisor to stop the gang gracefully; idempotent."""
        (self._folder(name) / "cancel").touch()

    def open_shell(self, name: str, replica: str) -> PtyShell:
        """A shell in the running replica (its environment, files and working directory)."""
        if not self.alive(name):
            raise Conflict(f"workload {name} is not running")
        return open_replica_shell(self._folder(name), replica)

    def has_outcome(self, name: str) -> bool:
        """Whether the supervisor has recorded how the workload ended (one `stat`)."""
        return (self._folder(name) / "outcome.json").is_file()

    def outcome(self, name: str) -> RunOutcome | None:
        """How the workload ended, or None while its supervisor still runs."""
        path = self._folder(name) / "outcome.json"
        if not path.is_file():
            if self.alive(name):
                return None
            if not path.is_file():  # it may have finished between the two looks
                reason = f"the local supervisor of {name} died without an outcome"
                return RunOutcome(ExperimentStatus.FAILED, 1, reason)
        record = json.loads(path.read_text())
        return RunOutcome(
            status=ExperimentStatus(record["status"]),
            exit_code=int(record["exit_code"]),
            reason=record["reason"],
            failed_replica=record["failed_replica"],
        )

    def alive(self, name: str) -> bool:
        """True while a supervisor holds the workload's lock file."""
        lock = self._folder(name) / "lock"
        if not lock.exists():
            return False
        with lock.open("a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle, fcntl.LOCK_UN)
            return False

    def forget(self, name: str) -> None:
        """Release the loopback ports this process reserved for the workload."""
        with self._lock:
            addressing = self._addressings.pop(name, None)
        if addressing is not None:
            addressing.release()
        self._sampler.forget(name)

    def _folder(self, name: str) -> Path:
        if "/" in name or name.startswith("."):
            raise NotFound(f"no workload named {name} on this engine")
        return self.state_dir / name

    def _wait_started(self, folder: Path, child: subprocess.Popen[bytes]) -> None:
        """Return once the supervisor holds its lock (or has already finished or failed)."""
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if (folder / "supervisor.json").exists() or child.poll() is not None:
                return
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(0.02)
        raise RuntimeError(f"the supervisor of {folder.name} did not start in {_START_TIMEOUT}s")
