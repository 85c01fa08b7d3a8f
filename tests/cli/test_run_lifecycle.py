"""`aichor run` ends experiments the way the manifest says: timeout and Ctrl-C both run the
graceful-termination command in each replica, then stop every process of the experiment."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import psutil

from tests.cli.test_run_command import make_repo, manifest
from tests.conftest import AICHOR

GRACEFUL = """gracefulTermination:
  shutdownCommand: ["/bin/sh", "-c", "echo $JOB_INDEX >> {marker}"]
  terminationGracePeriodSeconds: 5
"""


def experiment_processes(experiment_marker: str) -> list[psutil.Process]:
    """Processes whose environment carries this test's unique variable."""
    found = []
    for proc in psutil.process_iter(["pid"]):
        try:
            if proc.environ().get("TEST_MARKER") == experiment_marker:
                found.append(proc)
        except psutil.Error:
            continue
    return found


def lifecycle_repo(tmp_path: Path, marker: Path, extra: str) -> Path:
    env = f'env:\n  TEST_MARKER: "{tmp_path.name}"\n' + GRACEFUL.format(marker=marker) + extra
    types = "worker:\n      count: 2\n      resources:\n        cpus: 0.5\n        ramRatio: 1"
    return make_repo(tmp_path, manifest(command="sleep 120", types=types, env=env))


def test_timeout_runs_the_shutdown_command_and_leaves_no_process(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "shutdown.log"
    repo = lifecycle_repo(tmp_path, marker, 'timeout: "2s"\n')
    result = run_cli("run", str(repo))
    assert result.returncode != 0
    assert "timed out after 2s" in result.stderr
    assert sorted(marker.read_text().split()) == ["0", "1"], "once in each replica"
    assert experiment_processes(tmp_path.name) == []


def test_ctrl_c_cancels_gracefully(tmp_path: Path, aichor_env: dict[str, str]) -> None:
    marker = tmp_path / "shutdown.log"
    repo = lifecycle_repo(tmp_path, marker, "")
    proc = subprocess.Popen(
        [str(AICHOR), "run", str(repo)],
        env=aichor_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while len(experiment_processes(tmp_path.name)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(experiment_processes(tmp_path.name)) >= 2, "both replicas should be running"
    os.kill(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Cancelled" in stderr
    assert sorted(marker.read_text().split()) == ["0", "1"]
    assert experiment_processes(tmp_path.name) == []
