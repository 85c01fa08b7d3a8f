"""A running workload is looked at only every `running_poll_seconds`, yet its end and a cancel
are seen at once: the log pump makes an ended workload due, and a cancel makes it due.

Here the running poll is a minute: each experiment must end within seconds regardless, on
SQLite and PostgreSQL, with real pipeline threads and real workload processes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from aichor.db import tables
from aichor.db.session import Engine, Session, session
from aichor.lifecycle import ExperimentStatus, Step, StepStatus
from aichor.pipeline.reconciler import Reconciler, Timing
from aichor.pipeline.work import context_for
from aichor.services import experiments
from tests.pipeline.conftest import World, submit_archive, write_repo

SLOW_RUNNING_POLL = Timing(poll_seconds=0.05, lease_seconds=5.0, running_poll_seconds=60.0)


@pytest.fixture
def pipeline(world: World, db_engine: Engine) -> Iterator[Reconciler]:
    reconciler = Reconciler(
        db_engine, context_for(world.settings), threads=1, timing=SLOW_RUNNING_POLL
    ).start()
    yield reconciler
    reconciler.stop()


def _wait(
    db_engine: Engine, experiment_id: str, holds: Callable[[tables.Experiment], bool]
) -> float:
    """Seconds until `holds(experiment)`; fails after 30 s."""
    started = time.monotonic()
    while time.monotonic() - started < 30:
        with session(db_engine) as s:
            experiment = s.get(tables.Experiment, experiment_id)
            assert experiment is not None
            if holds(experiment):
                return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"{experiment_id}: condition not met in 30 s")


def _running(experiment: tables.Experiment) -> bool:
    return experiment.current_step == Step.RUNNING and any(
        s.step == Step.RUNNING and s.status == StepStatus.RUNNING for s in experiment.steps
    )


def _ended(experiment: tables.Experiment) -> bool:
    return experiment.status in (ExperimentStatus.SUCCEEDED, ExperimentStatus.CANCELLED)


@pytest.mark.usefixtures("pipeline")
def test_the_end_of_a_run_is_seen_before_the_next_running_poll(
    world: World, db: Session, db_engine: Engine, tmp_path: Path
) -> None:
    write_repo(tmp_path / "repo", command="python -c \"import time; time.sleep(2); print('done')\"")
    view = submit_archive(world, db, tmp_path / "repo")
    _wait(db_engine, view.id, _running)
    waited = _wait(db_engine, view.id, _ended)
    assert waited < 15, f"ended {waited:.1f} s after Running started (the poll is 60 s)"
    db.expire_all()
    assert experiments.get_experiment(db, world.actor, view.id).status == "Succeeded"


@pytest.mark.usefixtures("pipeline")
def test_a_cancel_is_seen_before_the_next_running_poll(
    world: World, db: Session, db_engine: Engine, tmp_path: Path
) -> None:
    write_repo(tmp_path / "repo", command='python -c "import time; time.sleep(600)"')
    view = submit_archive(world, db, tmp_path / "repo")
    _wait(db_engine, view.id, _running)
    time.sleep(0.5)  # past the first look: the row now waits for its next running poll
    experiments.cancel_experiment(db, world.actor, view.id)
    waited = _wait(db_engine, view.id, _ended)
    assert waited < 15, f"cancelled {waited:.1f} s after the request (the poll is 60 s)"
    db.expire_all()
    assert experiments.get_experiment(db, world.actor, view.id).status == "Cancelled"
