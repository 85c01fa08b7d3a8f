"""A detached supervisor: `python -m aichor.engines.local.supervise <run folder>`.

Started by `DetachedLocalEngine.submit` in its own session, so it outlives the server that
started it. It holds an exclusive lock on `<folder>/lock` while it lives (how the server tells
it is alive, immune to pid reuse), runs the workload pickled in `<folder>/workload.pickle` with
the same `Supervisor` and `Gang` as `aichor run`, rewrites `<folder>/states.json` when a
replica changes, cancels when `<folder>/cancel` appears, and leaves `outcome.json` and the logs.
Its own watchdog (the `Reaper`) kills the replicas if this process is killed.
"""

from __future__ import annotations

import fcntl
import os
import pickle
import sys
import uuid
from pathlib import Path

from aichor.engines.base import Workload
from aichor.engines.local.capacity import Shares, check_plan, detect_machine
from aichor.engines.local.ports import LoopbackAddressing
from aichor.engines.local.reaper import Reaper
from aichor.engines.local.supervisor import Supervisor
from aichor.files import write_json

POLL_SECONDS = 0.1


def main(folder: Path) -> int:
    lock = (folder / "lock").open("a")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return 0  # another supervisor already runs this workload
    if (folder / "outcome.json").exists():
        return 0
    with (folder / "workload.pickle").open("rb") as handle:
        workload: Workload = pickle.load(handle)  # noqa: S301 - written by our own server
    write_json(folder / "supervisor.json", {"pid": os.getpid()})
    token = uuid.uuid4().hex
    machine = detect_machine()
    supervisor = Supervisor(
        workload,
        folder=folder,
        shares=Shares(machine),
        reaper=Reaper(token),
        token=token,
        addressings=[LoopbackAddressing()],
        notes=check_plan(workload.plan, machine),
    )
    supervisor.start()
    _watch(folder, supervisor)
    return 0


def _watch(folder: Path, supervisor: Supervisor) -> None:
    """Publish replica states and honour the cancel file until the outcome is written."""
    last: object = None
    cancelled = False
    while True:
        finished = supervisor.done
        states = [
            {
                "name": s.name,
                "status": s.status.value,
                "exit_code": s.exit_code,
                "restarts": s.restarts,
                "reason": s.reason,
            }
            for s in supervisor.states()
        ]
        if states != last:
            write_json(folder / "states.json", states)
            last = states
        if finished:
            return
        if not cancelled and (folder / "cancel").exists():
            cancelled = True
            supervisor.cancel()
        try:
            supervisor.wait(POLL_SECONDS)
        except TimeoutError:
            continue


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
