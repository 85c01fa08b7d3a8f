"""Claims: one owner at a time, a lost claim writes nothing, an expired lease is taken over,
dead workers' claims are freed; the queue admits whole gangs in FIFO order within priority."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import update

from aichor.db import tables
from aichor.db.session import Engine, Session, session
from aichor.lifecycle import ExperimentStatus, Step
from aichor.pipeline import claim, queue, transitions
from aichor.services import experiments
from tests.pipeline.conftest import World, submit_archive, write_repo

LEASE = timedelta(seconds=30)


def _submit(world: World, db: Session, repo: Path, cpus: float) -> str:
    write_repo(repo, cpus=cpus)
    return submit_archive(world, db, repo).id


def test_queue_admits_whole_gangs_in_order(
    world: World, db: Session, db_engine: Engine, tmp_path: Path
) -> None:
    first = _submit(world, db, tmp_path / "a", 1.5)
    second = _submit(world, db, tmp_path / "b", 1)
    third = _submit(world, db, tmp_path / "c", 0.25)
    with session(db_engine) as s:
        assert queue.admit(s, world.engine.id) == 1  # 1.5 of 2 CPUs; the next (1) does not fit
    with session(db_engine) as s:
        steps = {e.id: e.current_step for e in s.query(tables.Experiment)}
    assert steps == {first: Step.CLONING, second: Step.WAITING, third: Step.WAITING}
    db.expire_all()
    cancelled = experiments.cancel_experiment(db, world.actor, second)
    assert cancelled.status == ExperimentStatus.CANCELLED  # cancelled in the queue at once
    with session(db_engine) as s:
        assert queue.admit(s, world.engine.id) == 1  # now the third fits


def test_one_look_tells_whether_each_queue_head_fits(
    world: World, db: Session, db_engine: Engine, tmp_path: Path
) -> None:
    """`look` (the unlocked read before admission) agrees with `admit`: engines without a
    queue are absent, the head is the highest priority first, and room is what is left."""
    idle = tables.Engine(
        organisation_id=world.actor.organisation_id, name="idle", kind="local", cpus=8, memory_gib=8
    )
    db.add(idle)
    db.commit()
    _submit(world, db, tmp_path / "a", 1.5)
    _submit(world, db, tmp_path / "b", 1)
    with session(db_engine) as s:
        assert queue.look(s) == {world.engine.id: True}
        assert queue.admit(s, world.engine.id) == 1
    with session(db_engine) as s:
        assert queue.look(s) == {world.engine.id: False}  # 1.5 + 1 of 2 CPUs
    small = _submit(world, db, tmp_path / "c", 0.25)
    with session(db_engine) as s:
        assert queue.look(s) == {world.engine.id: False}  # FIFO: it waits behind the 1-CPU gang
        s.execute(update(tables.Experiment).where(tables.Experiment.id == small).values(priority=5))
    with session(db_engine) as s:
        assert queue.look(s) == {world.engine.id: True}
        assert queue.admit(s, world.engine.id) == 1
    with session(db_engine) as s:
        assert s.get(tables.Experiment, small).current_step == Step.CLONING  # type: ignore[union-attr]


def test_one_owner_and_lease_takeover(
    world: World, db: Session, db_engine: Engine, tmp_path: Path
) -> None:
    experiment_id = _submit(world, db, tmp_path / "a", 0.25)
    now = tables.utcnow()
    with session(db_engine) as s:
        queue.admit(s, world.engine.id)
    with session(db_engine) as s:
        assert claim.claim_next(s, "host:1:1:0", now, LEASE) == experiment_id
    with session(db_engine) as s:
        assert claim.claim_next(s, "host:2:2:0", now, LEASE) is None
        assert claim.guard(s, experiment_id, "host:2:2:0", now + LEASE) is None
    later = now + LEASE + timedelta(seconds=1)
    with session(db_engine) as s:
        assert claim.claim_next(s, "host:2:2:0", later, LEASE) == experiment_id
    with session(db_engine) as s:
        assert claim.guard(s, experiment_id, "host:1:1:0", later) is None  # the old owner lost it


def test_dead_workers_claims_are_freed(
    world: World, db: Session, db_engine: Engine, tmp_path: Path
) -> None:
    experiment_id = _submit(world, db, tmp_path / "a", 0.25)
    with session(db_engine) as s:
        queue.admit(s, world.engine.id)
    dead = claim.worker_id(0).split(":")
    dead[1] = "999999999"  # no such process
    with session(db_engine) as s:
        claim.claim_next(s, ":".join(dead), tables.utcnow(), LEASE)
    with session(db_engine) as s:
        assert claim.release_dead_claims(s) == 1
    with session(db_engine) as s:
        assert claim.claim_next(s, claim.worker_id(0), tables.utcnow(), LEASE) == experiment_id


def test_a_finished_experiment_is_never_claimed_again(
    world: World, db: Session, db_engine: Engine, tmp_path: Path
) -> None:
    """Two workers read the same due candidate; the first finishes it (which clears its lease)
    before the second's compare-and-set: the second must not own a finished experiment."""
    experiment_id = _submit(world, db, tmp_path / "a", 0.25)
    with session(db_engine) as s:
        queue.admit(s, world.engine.id)
    now = tables.utcnow()
    with session(db_engine) as s:
        assert claim.claim_next(s, "host:1:1:0", now, LEASE) == experiment_id
    with session(db_engine) as s:
        row = s.get(tables.Experiment, experiment_id)
        assert row is not None
        transitions.finish(s, row, ExperimentStatus.FAILED, "exit code 3")
    with session(db_engine) as s:
        assert not claim.take(s, experiment_id, "host:2:2:0", now, LEASE)
        assert claim.claim_next(s, "host:2:2:0", now, LEASE) is None
    with session(db_engine) as s:
        row = s.get(tables.Experiment, experiment_id)
        assert row is not None
        assert (row.claimed_by, row.failure_reason) == (None, "exit code 3")
