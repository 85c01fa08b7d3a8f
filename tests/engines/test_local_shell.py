"""Terminals on the local engine: a shell in a running replica sees its environment and
working directory, dies with its socket (close) or with the replica, and is refused once the
replica has ended."""

from __future__ import annotations

import os
import select
import time

import psutil
import pytest

from aichor.engines.local import LocalEngine
from aichor.engines.local.shell import PtyShell
from aichor.errors import Conflict, NotFound
from tests.engines.plans import task, unique, workload


def _read_until(shell: PtyShell, needle: str, timeout: float = 20) -> str:
    seen = b""
    deadline = time.monotonic() + timeout
    while needle.encode() not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([shell.fileno()], [], [], 0.2)
        if ready:
            try:
                seen += os.read(shell.fileno(), 65536)
            except BlockingIOError:
                continue
    assert needle.encode() in seen, seen.decode(errors="replace")
    return seen.decode(errors="replace")


def _wait_running(engine: LocalEngine, name: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if any(s.status == "Running" for s in engine.observe(name)):
            return
        time.sleep(0.05)
    raise AssertionError(f"{name} never ran")


def test_shell_sees_the_replica_environment_and_is_killed_on_close(engine: LocalEngine) -> None:
    name = unique("shell")
    sleeper = task(f"{name}-0", "sleep 60", env={"AICHOR_EXPERIMENT_ID": "exp-42"})
    engine.submit(workload(name, sleeper))
    _wait_running(engine, name)
    shell = engine.open_shell(name, f"{name}-0")
    shell.resize(30, 100)
    shell.write(b"echo id=$AICHOR_EXPERIMENT_ID; stty size; echo end-$((6*7))\n")
    output = _read_until(shell, "end-42")
    assert "id=exp-42" in output and "30 100" in output
    pid = shell.process.pid
    shell.close()
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    engine.cancel(name)
    engine.wait(name, 30)


def test_shell_dies_with_its_replica_and_is_refused_afterwards(engine: LocalEngine) -> None:
    name = unique("shell")
    engine.submit(workload(name, task(f"{name}-0", "sleep 60")))
    _wait_running(engine, name)
    shell = engine.open_shell(name, f"{name}-0")
    engine.cancel(name)
    engine.wait(name, 30)
    deadline = time.monotonic() + 10
    while shell.process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert shell.process.poll() is not None, "the shell outlived its replica"
    shell.close()
    with pytest.raises(Conflict, match="not running"):
        engine.open_shell(name, f"{name}-0")
    with pytest.raises(NotFound, match="has not started"):
        engine.open_shell(name, "no-such-replica")
