"""Success rules and first-failure handling of the local engine, with real processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from aichor.engines.local import LocalEngine
from aichor.errors import NotFound
from aichor.lifecycle import ExperimentStatus, ReplicaStatus
from aichor.replicas import SuccessRule
from tests.engines.plans import assert_no_process_left, task, unique, workload


def _states(engine: LocalEngine, name: str) -> dict[str, tuple[ReplicaStatus, int | None]]:
    return {s.name: (s.status, s.exit_code) for s in engine.observe(name)}


def test_master_success_stops_the_workers(engine: LocalEngine) -> None:
    name = unique("master")
    engine.submit(
        workload(
            name,
            task("m", "echo master done", replica_type="Master"),
            task("w0", "sleep 60"),
            task("w1", "sleep 60"),
            success=SuccessRule.MASTER,
        )
    )
    outcome = engine.wait(name, timeout=60)
    assert outcome.status == ExperimentStatus.SUCCEEDED
    assert outcome.exit_code == 0
    assert outcome.reason == "Master m succeeded"
    states = _states(engine, name)
    assert states["m"] == (ReplicaStatus.SUCCEEDED, 0)
    assert states["w0"][0] == ReplicaStatus.CANCELLED
    assert states["w1"][0] == ReplicaStatus.CANCELLED
    assert_no_process_left(name)


def test_all_rule_waits_for_every_replica(engine: LocalEngine, tmp_path: Path) -> None:
    name = unique("all")
    marks = [tmp_path / f"done-{i}" for i in range(3)]
    replicas = [task(f"r{i}", f"sleep 0.{i}; touch {mark}") for i, mark in enumerate(marks)]
    engine.submit(workload(name, *replicas, success=SuccessRule.ALL))
    outcome = engine.wait(name, timeout=60)
    assert outcome.status == ExperimentStatus.SUCCEEDED
    assert all(mark.exists() for mark in marks)
    assert {s.status for s in engine.observe(name)} == {ReplicaStatus.SUCCEEDED}
    assert_no_process_left(name)


def test_first_failure_stops_the_rest(engine: LocalEngine, tmp_path: Path) -> None:
    name = unique("fail")
    survivor = tmp_path / "survived"
    engine.submit(
        workload(
            name,
            task("m", f"sleep 60; touch {survivor}", replica_type="Master"),
            task("bad", "echo about to fail; exit 3"),
            task("late", "sleep 5; exit 4"),
            success=SuccessRule.MASTER,
        )
    )
    outcome = engine.wait(name, timeout=60)
    assert outcome.status == ExperimentStatus.FAILED
    assert outcome.failed_replica == "bad"
    assert outcome.exit_code == 3
    assert "bad" in outcome.reason and "exit code 3" in outcome.reason
    states = _states(engine, name)
    assert states["bad"] == (ReplicaStatus.FAILED, 3)
    assert states["m"][0] == ReplicaStatus.CANCELLED
    assert states["late"][0] == ReplicaStatus.CANCELLED
    assert not survivor.exists()
    assert_no_process_left(name)


def test_background_children_die_with_their_replica(engine: LocalEngine) -> None:
    """A container ends with its main process: what it left running goes too."""
    name = unique("orphans")
    engine.submit(workload(name, task("r", "sleep 120 & sleep 120 & echo started")))
    outcome = engine.wait(name, timeout=60)
    assert outcome.status == ExperimentStatus.SUCCEEDED
    assert_no_process_left(name)


def test_submit_is_idempotent_and_unknown_names_are_not_found(engine: LocalEngine) -> None:
    name = unique("idem")
    submitted = workload(name, task("r", "echo once"))
    engine.submit(submitted)
    engine.submit(submitted)
    engine.wait(name, timeout=60)
    assert [line.text for line in engine.logs(name, "r")] == ["once"]
    with pytest.raises(NotFound):
        engine.observe("no-such-workload")


def test_a_replica_killed_by_a_signal_says_which(engine: LocalEngine) -> None:
    """`kill -9` on itself (what the OOM killer does) is reported as such, not as `code 137`."""
    name = unique("sig")
    engine.submit(workload(name, task("oom", "kill -9 $$"), task("ok", "sleep 30")))
    outcome = engine.wait(name, timeout=60)
    assert outcome.failed_replica == "oom" and outcome.exit_code == 137
    reasons = {s.name: s.reason for s in engine.observe(name)}
    assert reasons["oom"] == "killed by SIGKILL (exit code 137, out of memory?)"
    assert (reasons["ok"] or "").startswith("stopped")
    assert_no_process_left(name)
