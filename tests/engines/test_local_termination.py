"""Cancel, timeout and backoff restarts on the local engine, with real processes and signals."""

from __future__ import annotations

import time
from pathlib import Path

from aichor.engines.base import RunPolicy
from aichor.engines.local import LocalEngine
from aichor.lifecycle import ExperimentStatus, ReplicaStatus
from aichor.replicas import SuccessRule
from tests.engines.plans import (
    assert_no_process_left,
    eventually,
    py,
    task,
    unique,
    workload,
)

_IGNORE_TERM = """
import signal, sys, time, pathlib
signal.signal(signal.SIGTERM, lambda *_: print("got SIGTERM, ignoring", flush=True))
pathlib.Path(sys.argv[1]).touch()
while True:
    time.sleep(0.05)
"""
_STOP_ON_TERM = """
import signal, sys, time, pathlib
def stop(*_):
    print("got SIGTERM, exiting", flush=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
pathlib.Path(sys.argv[1]).touch()
while True:
    time.sleep(0.05)
"""


def test_cancel_runs_shutdown_then_sigterm_then_sigkill(
    engine: LocalEngine, tmp_path: Path
) -> None:
    name = unique("cancel")
    shutdown_marks = tmp_path / "shutdown"
    shutdown_marks.mkdir()
    # The shutdown command sees the replica's own environment (ROLE differs per replica).
    shutdown = ["/bin/sh", "-c", f'echo "$ROLE" > {shutdown_marks}/"$ROLE"']
    policy = RunPolicy(shutdown_command=shutdown, grace_period_seconds=2)
    stubborn, polite = tmp_path / "stubborn-up", tmp_path / "polite-up"
    engine.submit(
        workload(
            name,
            task("stubborn", f"exec {py(_IGNORE_TERM)} {stubborn}", env={"ROLE": "stubborn"}),
            task("polite", f"exec {py(_STOP_ON_TERM)} {polite}", env={"ROLE": "polite"}),
            policy=policy,
        )
    )
    eventually(lambda: stubborn.exists() and polite.exists(), what="both replicas up")
    started = time.monotonic()
    engine.cancel(name)
    engine.cancel(name)  # idempotent
    outcome = engine.wait(name, timeout=60)
    took = time.monotonic() - started

    assert outcome.status == ExperimentStatus.CANCELLED
    assert (shutdown_marks / "stubborn").read_text().strip() == "stubborn"
    assert (shutdown_marks / "polite").read_text().strip() == "polite"
    assert 2 <= took < 10, f"grace period of 2s, cancel took {took:.1f}s"
    texts = {(line.source, line.text) for line in engine.logs(name)}
    assert ("stubborn", "got SIGTERM, ignoring") in texts
    assert ("polite", "got SIGTERM, exiting") in texts
    states = {s.name: s for s in engine.observe(name)}
    assert states["stubborn"].status == ReplicaStatus.CANCELLED
    assert states["stubborn"].exit_code == 137  # SIGKILL
    assert states["polite"].exit_code == 0
    assert_no_process_left(name)


def test_deadline_fails_the_experiment(engine: LocalEngine, tmp_path: Path) -> None:
    name = unique("deadline")
    marker = tmp_path / "shutdown-ran"
    policy = RunPolicy(
        deadline_seconds=1,
        grace_period_seconds=2,
        shutdown_command=["/bin/sh", "-c", f"echo timeout > {marker}"],
    )
    engine.submit(workload(name, task("slow", "sleep 60"), policy=policy))
    outcome = engine.wait(name, timeout=60)
    assert outcome.status == ExperimentStatus.FAILED
    assert outcome.reason == "timed out after 1s"
    assert marker.read_text().strip() == "timeout", "the shutdown command runs on timeout too"
    assert_no_process_left(name)


def test_backoff_restarts_the_whole_gang(engine: LocalEngine, tmp_path: Path) -> None:
    name = unique("backoff")
    marker = tmp_path / "first-attempt-done"
    starts = tmp_path / "partner-starts"
    # Each attempt of the master waits for its partner to have started, then decides.
    wait_for = 'until [ "$(cat {0} 2>/dev/null | wc -l)" -ge {1} ]; do sleep 0.02; done'
    flaky = (
        f"if [ -e {marker} ]; then {wait_for.format(starts, 2)}; echo second; "
        f"else {wait_for.format(starts, 1)}; touch {marker}; echo first; exit 2; fi"
    )
    partner = f"echo start >> {starts}; sleep 60"
    engine.submit(
        workload(
            name,
            task("m", flaky, replica_type="Master"),
            task("w", partner),
            success=SuccessRule.MASTER,
            policy=RunPolicy(backoff_limit=2, grace_period_seconds=2),
        )
    )
    outcome = engine.wait(name, timeout=60)
    assert outcome.status == ExperimentStatus.SUCCEEDED
    states = {s.name: s for s in engine.observe(name)}
    assert states["m"].restarts == 1
    assert states["w"].restarts == 1
    assert starts.read_text().count("start") == 2  # the partner was restarted with the gang
    assert [line.text for line in engine.logs(name, "m")] == ["first", "second"]
    assert any("restarting the whole gang" in line.text for line in engine.logs(name, "aichor"))
    assert_no_process_left(name)


def test_backoff_exhausted_reports_the_last_failure(engine: LocalEngine) -> None:
    name = unique("exhausted")
    policy = RunPolicy(backoff_limit=1, grace_period_seconds=2)
    engine.submit(workload(name, task("r", "exit 5"), policy=policy))
    outcome = engine.wait(name, timeout=60)
    assert outcome.status == ExperimentStatus.FAILED
    assert outcome.exit_code == 5
    assert outcome.failed_replica == "r"
    assert engine.observe(name)[0].restarts == 1
    assert_no_process_left(name)
