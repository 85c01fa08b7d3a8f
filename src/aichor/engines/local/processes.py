"""Replica processes: spawn in their own session, capture output, terminate, kill whole trees.

Each replica is started with `start_new_session=True`, so its process group and session id
equal its pid, and with a marker variable (`AICHOR_REPLICA_KEY`) in its environment. A replica's
*tree* is every process in its session or carrying its marker: that finds children that
daemonise (new session, e.g. Ray's raylet and workers) as well as ones that scrub their env.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence

import psutil

MARKER = "AICHOR_REPLICA_KEY"
"""Environment variable naming the replica (and attempt) a process belongs to."""
_MAX_LINE = 64 * 1024
"""Longer output without a newline is cut into several lines rather than held in memory."""
_READ_BYTES = 256 * 1024


class ReplicaProcess:
    """One started replica command: its Popen, output reader and exit watcher."""

    def __init__(
        self,
        argv: Sequence[str],
        env: Mapping[str, str],
        *,
        key: str,
        on_lines: Callable[[list[str]], None],
        on_exit: Callable[[int], None],
        cores: Sequence[int] | None = None,
    ) -> None:
        self.key = key
        full_env = {**env, MARKER: key}
        self.popen = subprocess.Popen(  # noqa: S603 - argv list, never a shell string
            _with_affinity(argv, cores),
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.pid = self.popen.pid
        self.exit_code: int | None = None
        self._on_lines = on_lines
        self._on_exit = on_exit
        self._reader = threading.Thread(target=self._read, name=f"out-{key}", daemon=True)
        self._watcher = threading.Thread(target=self._watch, name=f"wait-{key}", daemon=True)
        self._reader.start()
        self._watcher.start()

    def running(self) -> bool:
        return self.exit_code is None and self.popen.poll() is None

    def _read(self) -> None:
        """Hand on the complete lines of each read from the pipe, as one batch.

        One batch per read (whatever the pipe held) rather than one call per line: a replica
        printing 100,000 lines a second costs a few hundred writes to the log files, not
        200,000. Every line is handed on as soon as it was read, so nothing waits in here.
        """
        if self.popen.stdout is None:
            return
        pending = b""
        with self.popen.stdout as pipe:
            while chunk := os.read(pipe.fileno(), _READ_BYTES):
                *complete, pending = (pending + chunk).split(b"\n")
                while len(pending) > _MAX_LINE:
                    complete.append(pending[:_MAX_LINE])
                    pending = pending[_MAX_LINE:]
                if complete:
                    self._on_lines([_text(raw) for raw in complete])
            if pending:
                self._on_lines([_text(pending)])

    def _watch(self) -> None:
        code = self.popen.wait()
        # A container ends with its main process: whatever it left behind goes with it, and
        # that also closes the pipe so the reader sees every line before we report the exit.
        kill_tree(self.pid, self.key)
        self._reader.join(timeout=10)
        self.exit_code = 128 - code if code < 0 else code
        self._on_exit(self.exit_code)

    def wait(self, timeout: float | None = None) -> bool:
        """True when the process has exited and its exit was reported."""
        self._watcher.join(timeout)
        return not self._watcher.is_alive()


def _text(raw: bytes) -> str:
    return raw.decode(errors="replace").rstrip("\r")


def _with_affinity(argv: Sequence[str], cores: Sequence[int] | None) -> list[str]:
    """Prefix `taskset` so the affinity is set before the command (and its children) start."""
    taskset = shutil.which("taskset")
    if not cores or taskset is None:
        return list(argv)
    return [taskset, "--cpu-list", ",".join(str(c) for c in cores), *argv]


def terminate(
    process: ReplicaProcess, deadline: float, on_note: Callable[[str], None], *, signal_group: bool
) -> None:
    """SIGTERM the replica's process group, then SIGKILL its whole tree at `deadline`.

    `deadline` is a `time.monotonic()` instant: the grace period started before any shutdown
    command ran, so that command's time counts against it.
    """
    if process.running():
        if signal_group:
            _signal_group(process.pid, signal.SIGTERM)
        else:
            for member in tree(process.pid, process.key):
                _signal(member, signal.SIGTERM)
        if not process.wait(max(deadline - time.monotonic(), 0)):
            on_note(f"still running after the grace period: SIGKILL (pid {process.pid})")
    kill_tree(process.pid, process.key)
    process.wait(10)


def tree(session: int, key: str) -> list[psutil.Process]:
    """Every live process in `session` or carrying the marker `key` (never this process)."""
    members = []
    for candidate in psutil.process_iter():
        if candidate.pid == os.getpid():
            continue
        try:
            if os.getsid(candidate.pid) == session or candidate.environ().get(MARKER) == key:
                members.append(candidate)
        except (psutil.Error, OSError):
            continue
    return members


def kill_tree(session: int, key: str) -> None:
    """SIGKILL every process of the replica, repeating until none is left (forks race us)."""
    for _ in range(20):
        members = [m for m in tree(session, key) if _alive(m)]
        if not members:
            return
        for member in members:
            _signal(member, signal.SIGKILL)
        _wait_gone(members, timeout=2)


def _wait_gone(members: list[psutil.Process], timeout: float) -> None:
    """Wait until every member is dead or a zombie (orphans are reaped by init, not by us)."""
    end = time.monotonic() + timeout
    while any(_alive(m) for m in members) and time.monotonic() < end:
        time.sleep(0.01)


def run_bounded(
    argv: Sequence[str],
    env: Mapping[str, str],
    *,
    timeout: float,
    on_lines: Callable[[list[str]], None],
) -> int | None:
    """Run a short command (the shutdown command) to completion or `timeout`; its exit code."""
    finished = threading.Event()
    codes: list[int] = []

    def exited(code: int) -> None:
        codes.append(code)
        finished.set()

    key = f"shutdown-{os.getpid()}-{time.monotonic_ns()}"
    process = ReplicaProcess(argv, env, key=key, on_lines=on_lines, on_exit=exited)
    if not finished.wait(max(timeout, 0)):
        kill_tree(process.pid, key)
        process.wait(10)
        return None
    return codes[0]


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _signal(process: psutil.Process, sig: signal.Signals) -> None:
    with contextlib.suppress(psutil.Error):
        process.send_signal(sig)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
