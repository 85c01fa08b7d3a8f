"""The detached local engine: a run outlives the object (the server) that started it."""

from __future__ import annotations

import time
from pathlib import Path

from aichor.engines.base import Workload
from aichor.engines.local.detached import DetachedLocalEngine
from aichor.lifecycle import ExperimentStatus, ReplicaStatus
from aichor.replicas import ReplicaPlan, SuccessRule
from tests.engines.plans import IMAGE, task, unique


def _wait_outcome(engine: DetachedLocalEngine, name: str, timeout: float = 60):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        outcome = engine.outcome(name)
        if outcome is not None:
            return outcome
        time.sleep(0.05)
    raise AssertionError(f"{name} did not finish")


def _workload(command: str) -> Workload:
    name = unique("detached")
    plan = ReplicaPlan(
        workload_name=name, replicas=(task(f"{name}-w-0", command),), success=SuccessRule.ALL
    )
    return Workload(plan=plan, image=IMAGE)


def test_run_survives_a_new_engine_object(tmp_path: Path) -> None:
    workload = _workload("echo one; sleep 0.5; echo two")
    first = DetachedLocalEngine(tmp_path / "runs", tmp_path / "cache")
    first.submit(workload)
    first.submit(workload)  # idempotent
    second = DetachedLocalEngine(tmp_path / "runs", tmp_path / "cache")
    outcome = _wait_outcome(second, workload.name)
    assert outcome.status == ExperimentStatus.SUCCEEDED
    texts = [line.text for line in second.logs(workload.name, f"{workload.name}-w-0")]
    assert texts == ["one", "two"]
    assert [s.status for s in second.observe(workload.name)] == [ReplicaStatus.SUCCEEDED]
    assert not second.alive(workload.name)
    first.submit(workload)  # finished: not started again
    assert len(second.logs(workload.name, f"{workload.name}-w-0")) == 2


def test_cancel_through_the_files(tmp_path: Path) -> None:
    workload = _workload("echo started; sleep 60")
    engine = DetachedLocalEngine(tmp_path / "runs", tmp_path / "cache")
    engine.submit(workload)
    engine.cancel(workload.name)
    assert _wait_outcome(engine, workload.name).status == ExperimentStatus.CANCELLED
