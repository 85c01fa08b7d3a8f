"""Nothing of an experiment survives a SIGKILL of the process running the LocalEngine."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil

from tests.engines.plans import assert_no_process_left, eventually, unique

_PARENT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from aichor.engines.local import LocalEngine
    from tests.engines.plans import task, workload

    name, folder = sys.argv[1], Path(sys.argv[2])
    engine = LocalEngine(state_dir=folder / "runs", cache_dir=folder / "cache")
    pids = folder / "pids"
    # A plain replica, one whose child daemonises (new session), one whose child scrubs its env.
    engine.submit(workload(
        name,
        task("plain", f"echo $$ >> {pids}; sleep 300"),
        task("daemon", f"setsid sh -c 'echo $$ >> {pids}; exec sleep 300' & sleep 300"),
        task("scrubbed", f"env -i /bin/sh -c 'echo $$ >> {pids}; exec sleep 300' & sleep 300"),
    ))
    print("submitted", flush=True)
    time.sleep(600)
    """
)


def test_sigkill_of_aichor_leaves_no_process(tmp_path: Path) -> None:
    name = unique("crash")
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), str(root / "src")])}
    parent = subprocess.Popen(
        [sys.executable, "-c", _PARENT, name, str(tmp_path)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        pids_file = tmp_path / "pids"
        eventually(
            lambda: pids_file.exists() and len(pids_file.read_text().split()) == 3,
            timeout=60,
            what="three replica processes up",
        )
        pids = [int(p) for p in pids_file.read_text().split()]
        assert all(psutil.pid_exists(pid) for pid in pids)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        assert_no_process_left(name, timeout=30)
        eventually(lambda: not any(_alive(pid) for pid in pids), timeout=30, what="pids gone")
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        if parent.stdout is not None:
            parent.stdout.close()


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
