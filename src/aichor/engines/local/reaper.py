"""The watchdog that kills every replica process when the process running LocalEngine dies.

`Reaper` starts `python <this file> <token>` in its own session with a pipe
on its stdin. The engine never writes a newline-terminated "stop" on that pipe: the watchdog
waits for end-of-file, which the kernel delivers however the engine ends (normal exit, crash,
SIGKILL). Then it SIGTERMs, and shortly after SIGKILLs, every process whose environment carries
the engine's token, plus the sessions it was told about, and removes the folders it was given.

Chosen over PR_SET_PDEATHSIG because that needs `preexec_fn` (unsafe with threads) and only
reaches direct children, while Ray's raylet and workers are grandchildren in other sessions.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

TOKEN = "AICHOR_ENGINE_TOKEN"  # noqa: S105 - a variable name, not a secret
"""Environment variable every replica process of one LocalEngine carries."""


class Reaper:
    """Client side: start the watchdog and tell it about sessions and folders to clean up."""

    def __init__(self, token: str) -> None:
        self.token = token
        self._lock = threading.Lock()
        env = {k: v for k, v in os.environ.items() if k != TOKEN}
        # Run by path: the watchdog needs only the standard library and psutil, not the
        # aichor package's import chain, so it starts fast and cannot be broken by it.
        self._process = subprocess.Popen(  # noqa: S603 - fixed argv
            [sys.executable, "-P", str(Path(__file__).resolve()), token],  # -P: no script dir
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            start_new_session=True,  # a Ctrl-C to aichor's terminal must not kill the watchdog
        )

    @property
    def pid(self) -> int:
        return self._process.pid

    def watch_session(self, pid: int) -> None:
        self._send(f"+{pid}")

    def forget_session(self, pid: int) -> None:
        self._send(f"-{pid}")

    def remove_on_exit(self, folder: Path) -> None:
        self._send(f"d{folder}")

    def close(self) -> None:
        """Normal shutdown: closing the pipe makes the watchdog clean up and exit."""
        with self._lock:
            if self._process.stdin is not None and not self._process.stdin.closed:
                self._process.stdin.close()
        self._process.wait(timeout=30)

    def _send(self, message: str) -> None:
        with self._lock:
            stdin = self._process.stdin
            if stdin is None or stdin.closed:
                return
            try:
                stdin.write(f"{message}\n".encode())
                stdin.flush()
            except BrokenPipeError:
                pass


def main(token: str) -> None:
    """Watchdog side: read registrations until EOF, then clean up everything."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sessions: set[int] = set()
    folders: list[Path] = []
    for raw in sys.stdin.buffer:
        line = raw.decode(errors="replace").rstrip("\n")
        if line.startswith("+") and line[1:].isdigit():
            sessions.add(int(line[1:]))
        elif line.startswith("-") and line[1:].isdigit():
            sessions.discard(int(line[1:]))
        elif line.startswith("d"):
            folders.append(Path(line[1:]))
    _kill_everything(token, sessions)
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


def _kill_everything(token: str, sessions: set[int]) -> None:
    for sig, pause in ((signal.SIGTERM, 1.0), (signal.SIGKILL, 0.2), (signal.SIGKILL, 0.2)):
        members = _members(token, sessions)
        if not members:
            return
        for member in members:
            with contextlib.suppress(psutil.Error):
                member.send_signal(sig)
        psutil.wait_procs(members, timeout=pause)
        time.sleep(0.05)  # let forks that raced the scan show up in the next one


def _members(token: str, sessions: set[int]) -> list[psutil.Process]:
    found = []
    for candidate in psutil.process_iter():
        if candidate.pid == os.getpid():
            continue
        try:
            ours = os.getsid(candidate.pid) in sessions or candidate.environ().get(TOKEN) == token
            if ours and candidate.status() != psutil.STATUS_ZOMBIE:
                found.append(candidate)
        except (psutil.Error, OSError):
            continue
    return found


if __name__ == "__main__":
    main(sys.argv[1])
