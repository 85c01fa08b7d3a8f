"""TensorBoard processes: one per experiment, started on the first request, stopped when idle.

`TensorBoards` lives on the app (`app.state.tensorboards`), closed when the server stops.
Each process is `python -m tensorboard.main` on a free loopback port with `--path_prefix` set
to the experiment's proxy path, so the pages it serves link back through the proxy.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from aichor.errors import Unavailable
from aichor.net import free_port


@dataclass(frozen=True)
class TensorBoardTarget:
    """What to serve: the experiment (the key), its log directory, the proxy path it sits under."""

    key: str
    logdir: Path
    path_prefix: str


@dataclass
class _Running:
    process: subprocess.Popen[bytes]
    url: str
    last_used: float


class TensorBoards:
    """The TensorBoard processes of this server; thread-safe."""

    def __init__(
        self,
        *,
        idle_seconds: float = 600.0,
        max_running: int = 8,
        start_timeout: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.idle_seconds = idle_seconds
        self.max_running = max_running
        self.start_timeout = start_timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._starting: dict[str, threading.Lock] = {}
        self._running: dict[str, _Running] = {}
        self._closed = threading.Event()
        self._janitor: threading.Thread | None = None

    def url_for(self, target: TensorBoardTarget) -> str:
        """The base URL of the target's TensorBoard (prefix included); starts it if needed."""
        with self._lock:
            if self._closed.is_set():
                raise Unavailable("the server is stopping")
            gate = self._starting.setdefault(target.key, threading.Lock())
        with gate:  # one start per experiment; other requests for it wait for that one
            with self._lock:
                running = self._running.get(target.key)
                if running is not None and running.process.poll() is None:
                    running.last_used = self._clock()
                    return running.url
            started = self._start(target)
            with self._lock:
                self._running[target.key] = started
                self._ensure_janitor()
                surplus = self._least_recent(len(self._running) - self.max_running)
            for process in surplus:
                _stop(process)
            return started.url

    def running(self) -> list[str]:
        with self._lock:
            return [k for k, r in self._running.items() if r.process.poll() is None]

    def stop_idle(self) -> int:
        """Stop every TensorBoard not used for `idle_seconds`; how many were stopped."""
        now = self._clock()
        with self._lock:
            idle = [k for k, r in self._running.items() if now - r.last_used >= self.idle_seconds]
            processes = [self._running.pop(k).process for k in idle]
        for process in processes:
            _stop(process)
        return len(processes)

    def close(self) -> None:
        """Stop every TensorBoard (the server is stopping)."""
        self._closed.set()
        with self._lock:
            processes = [r.process for r in self._running.values()]
            self._running.clear()
        for process in processes:
            _stop(process)

    def _least_recent(self, count: int) -> list[subprocess.Popen[bytes]]:
        if count <= 0:
            return []
        oldest = sorted(self._running, key=lambda k: self._running[k].last_used)[:count]
        return [self._running.pop(k).process for k in oldest]

    def _ensure_janitor(self) -> None:
        if self._janitor is None:
            self._janitor = threading.Thread(target=self._sweep, name="tensorboard-idle")
            self._janitor.daemon = True
            self._janitor.start()

    def _sweep(self) -> None:
        while not self._closed.wait(min(max(self.idle_seconds / 4, 0.05), 30.0)):
            self.stop_idle()

    def _start(self, target: TensorBoardTarget) -> _Running:
        target.logdir.mkdir(parents=True, exist_ok=True)
        port = free_port()
        prefix = target.path_prefix.rstrip("/")
        argv = [
            sys.executable, "-m", "tensorboard.main",
            "--logdir", str(target.logdir),
            "--host", "127.0.0.1",
            "--port", str(port),
            "--path_prefix", prefix,
            "--load_fast", "false",
            "--reload_interval", "5",
        ]  # fmt: skip
        # The server's own settings (database URL, secret key) are none of TensorBoard's business.
        env = {k: v for k, v in os.environ.items() if not k.startswith("AICHOR_")}
        process = subprocess.Popen(  # noqa: S603 - argv list, paths from our own settings
            argv,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}{prefix}"
        try:
            self._wait_ready(process, url)
        except BaseException:
            _stop(process)
            raise
        return _Running(process=process, url=url, last_used=self._clock())

    def _wait_ready(self, process: subprocess.Popen[bytes], url: str) -> None:
        deadline = time.monotonic() + self.start_timeout
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    raise Unavailable(
                        f"TensorBoard exited with code {process.returncode} while starting"
                    )
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(f"{url}/data/logdir").status_code == 200:
                        return
                time.sleep(0.1)
        raise Unavailable(f"TensorBoard did not start in {self.start_timeout:g}s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM its session, SIGKILL after 5 s; reaped either way."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(5)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)
