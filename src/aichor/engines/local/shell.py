"""A shell in a running local replica: same environment, same file tree, same directory.

Called by `LocalEngine.open_shell` and `DetachedLocalEngine.open_shell` (the dashboard's
terminal). The replica's pid comes from the run folder's `pids` file (the latest attempt of that
replica); its environment is read from `/proc/<pid>/environ`, so the shell sees exactly the
variables the replica was started with (AICHOR_EXPERIMENT_ID, the operator's variables, ...).
`nsenter` joins the replica's mount namespace, root and working directory (the sandbox of
decision 041). The shell keeps the replica's marker variable, so the engine kills it with the
replica's process tree when the replica ends; `close` kills it sooner.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import struct
import subprocess
import sys
import termios
from pathlib import Path

import psutil

from aichor.errors import Conflict, NotFound

# Runs in the child between setsid and the shell: make the pty its controlling terminal, so the
# shell has job control and Ctrl-C reaches the foreground command. Fixed code, no user input.
_TAKE_TTY = (
    "import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
    "os.execvp(sys.argv[1], sys.argv[1:])"
)
_SHELLS = ("/bin/bash", "/bin/sh")


class PtyShell:
    """A shell process on a pseudo-terminal; satisfies `aichor.engines.base.Shell`."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        master, slave = os.openpty()
        try:
            self.process = subprocess.Popen(  # noqa: S603 - argv list, never a shell string
                [sys.executable, "-S", "-c", _TAKE_TTY, *argv],
                stdin=slave,
                stdout=slave,
                stderr=slave,
                env=env,
                start_new_session=True,
                close_fds=True,
            )
        except OSError:
            os.close(master)
            raise
        finally:
            os.close(slave)
        os.set_blocking(master, False)
        self._master = master
        self._closed = False

    def fileno(self) -> int:
        return self._master

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                written = os.write(self._master, view)
            except BlockingIOError:
                continue
            view = view[written:]

    def resize(self, rows: int, cols: int) -> None:
        size = struct.pack("HHHH", max(rows, 1), max(cols, 1), 0, 0)
        with contextlib.suppress(OSError):
            fcntl.ioctl(self._master, termios.TIOCSWINSZ, size)

    def close(self) -> None:
        """Kill the shell's whole session (what it started too), then free the terminal."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(5)
        os.close(self._master)


def open_replica_shell(folder: Path, replica: str) -> PtyShell:
    """A shell in the running replica `replica` of the run in `folder`."""
    pid = _replica_pid(folder, replica)
    env = _environment(pid)
    env["TERM"] = "xterm-256color"
    env.setdefault("PS1", f"{replica}$ ")
    shell = next((s for s in _SHELLS if os.path.exists(s)), "/bin/sh")
    return PtyShell([*_enter(pid), shell, "-i"], env)


def _replica_pid(folder: Path, replica: str) -> int:
    """The pid of the replica's latest attempt, if that process still runs."""
    pids = folder / "pids"
    found: int | None = None
    if pids.is_file():
        for line in pids.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[1] == replica:
                found = int(parts[0])
    if found is None:
        raise NotFound(f"replica {replica} has not started")
    try:
        process = psutil.Process(found)
        if process.status() == psutil.STATUS_ZOMBIE:
            raise psutil.NoSuchProcess(found)
    except psutil.Error:
        raise Conflict(f"replica {replica} is not running") from None
    return found


def _environment(pid: int) -> dict[str, str]:
    try:
        return dict(psutil.Process(pid).environ())
    except psutil.Error:
        raise Conflict("the replica ended while the terminal opened") from None


def _enter(pid: int) -> list[str]:
    """`nsenter` into the replica's mount namespace, root and working directory."""
    nsenter = shutil.which("nsenter")
    if nsenter is None:
        raise Conflict("nsenter (util-linux) is needed for terminals on the local engine")
    argv = [nsenter, f"--target={pid}", "--mount", "--root", "--wd"]
    with contextlib.suppress(OSError):
        if os.readlink(f"/proc/{pid}/ns/user") != os.readlink("/proc/self/ns/user"):
            argv += ["--user", "--preserve-credentials"]
    return [*argv, "--"]
