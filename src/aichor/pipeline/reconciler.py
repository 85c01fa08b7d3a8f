"""The pipeline loop: N worker threads claim due experiments and move them through their steps.

Per experiment: load (guarded, short session) → act (the step function, no session open, the
lease renewed meanwhile) → apply (guarded, short session, through `transitions`). Between
looks at a running workload the row is released with a due time, so threads are never held by
long runs, and a restarted server (or another worker process) simply picks the rows up again.
Called by `aichor.app` (lifespan) and `aichor worker` through `start(settings)`.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine

from aichor.db import tables
from aichor.db.session import make_engine, session
from aichor.errors import AichorError
from aichor.lifecycle import ExperimentStatus, Step, StepStatus
from aichor.operators.base import short_name
from aichor.pipeline import build, claim, clone, queue, run, submit, transitions
from aichor.pipeline.outcome import apply_outcome
from aichor.pipeline.work import Context, Job, Result, context_for, masked
from aichor.settings import Settings
from aichor.storage.volumes import remove_shared_volume

log = logging.getLogger(__name__)
STEP_FUNCTIONS: dict[Step, Callable[[Job, Context], Result]] = {
    Step.CLONING: clone.act,
    Step.BUILDING: build.act,
    Step.SUBMITTING: submit.act,
    Step.RUNNING: run.act,
}
NEXT_STEP = {
    Step.CLONING: Step.BUILDING,
    Step.BUILDING: Step.SUBMITTING,
    Step.SUBMITTING: Step.RUNNING,
}
_running: set[Reconciler] = set()
_running_lock = threading.Lock()


@dataclass(frozen=True)
class Timing:
    """Poll intervals (idle workers, running workloads) and the claim lease."""

    poll_seconds: float = 0.5
    running_poll_seconds: float = 2.0
    """How often a running workload is looked at (replica states, resource samples, the end).
    Its end is noticed sooner: the log pump, which watches its stream every few milliseconds,
    makes it due as soon as the engine records the outcome, and a cancel makes it due at once.
    Each look costs about a dozen statements, so a shorter interval is paid for by every
    running experiment, every time."""
    lease_seconds: float = 30.0
    settle_seconds: float = 0.1
    """An idle worker woken early (a submit, a cancel) waits this long for more wake-ups, so a
    burst of submissions costs one look at the queue per interval rather than one each."""


class Reconciler:
    """Worker threads of one process; `stop()` lets them finish their current unit."""

    def __init__(
        self,
        db: Engine,
        ctx: Context,
        *,
        threads: int = 2,
        timing: Timing = Timing(),
        clock: Callable[[], datetime] = tables.utcnow,
    ) -> None:
        self.db, self.ctx, self.timing, self.clock = db, ctx, timing, clock
        self._workers = [claim.worker_id(index) for index in range(threads)]
        self._stop = threading.Event()
        self._wake = threading.Condition()
        self._admission = threading.Lock()
        self._blocked: dict[str, float] = {}
        """Engine id → when (monotonic) the last look found the head of its queue not fitting."""
        self._threads: list[threading.Thread] = []
        ctx.pump.on_end = self._look_now

    def start(self) -> Reconciler:
        with session(self.db) as db:
            freed = claim.release_dead_claims(db)
        if freed:
            log.info("released %d claim(s) of workers that died", freed)
        for worker in self._workers:
            thread = threading.Thread(target=self._loop, args=(worker,), name=f"pipeline-{worker}")
            thread.daemon = True
            self._threads.append(thread)
            thread.start()
        with _running_lock:
            _running.add(self)
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self.wake()
        for thread in self._threads:
            thread.join(timeout)
        self.ctx.pump.stop()
        with _running_lock:
            _running.discard(self)

    def wake(self, *, queued_on: str | None = None) -> None:
        """Wake the idle workers. A submission queued on an engine whose queue head did not fit
        at the last look, less than a poll interval ago, wakes nobody: it waits behind that
        head (FIFO within priority), and the next poll looks again anyway. A burst of
        submissions on a full engine therefore costs no looks at all."""
        if queued_on is not None:
            seen = self._blocked.get(queued_on)
            if seen is not None and time.monotonic() - seen < self.timing.poll_seconds:
                return
        with self._wake:
            self._wake.notify_all()

    def _look_now(self, experiment_id: str) -> bool:
        """The workload ended: look at it now rather than at its next running poll. False
        while a worker holds it (the pump asks again at its next tick)."""
        with session(self.db) as db:
            taken = claim.due_now(db, experiment_id)
        if taken:
            self.wake()
        return taken

    def run_once(self, worker: str) -> bool:
        """Admit what fits, then take one due experiment as far as it goes; True if any work."""
        admitted = self._admit()
        with session(self.db) as db:
            experiment_id = claim.claim_next(db, worker, self.clock(), self._lease())
        if experiment_id is None:
            return admitted > 0
        self._process(worker, experiment_id)
        return True

    def _loop(self, worker: str) -> None:
        while not self._stop.is_set():
            try:
                busy = self.run_once(worker)
            except Exception:  # a database hiccup must not kill the worker
                log.exception("pipeline worker %s", worker)
                busy = False
            if not busy:
                with self._wake:
                    woken = self._wake.wait(self.timing.poll_seconds)
                if woken and self.timing.settle_seconds > 0:
                    self._stop.wait(self.timing.settle_seconds)

    def _admit(self) -> int:
        if not self._admission.acquire(blocking=False):
            return 0
        try:
            looked_at = time.monotonic()
            with session(self.db) as db:
                heads = queue.look(db)
            admitted = 0
            blocked: dict[str, float] = {}
            for engine_id, fits in heads.items():
                now_admitted = 0
                if fits:
                    with session(self.db) as db:
                        now_admitted = queue.admit(db, engine_id)
                if not now_admitted:
                    blocked[engine_id] = looked_at
                admitted += now_admitted
            self._blocked = blocked  # one assignment: `wake` reads it from other threads
            return admitted
        finally:
            self._admission.release()

    def _process(self, worker: str, experiment_id: str) -> None:
        while not self._stop.is_set():
            job = self._load(worker, experiment_id)
            if job is None:
                return
            result = self._act(worker, job)
            if not self._apply(worker, job, result):
                return

    def _load(self, worker: str, experiment_id: str) -> Job | None:
        """The job to act on, or None when the experiment needs nothing more from this worker."""
        with session(self.db) as db:
            experiment = claim.guard(db, experiment_id, worker, self._until())
            if experiment is None:
                return None
            job = claim.load_job(
                experiment, db, secret=self.ctx.settings.secret(), settings=self.ctx.settings
            )
            if job.cancel_requested and job.step != Step.RUNNING:
                if job.step == Step.SUBMITTING:
                    with contextlib.suppress(OSError):
                        self.ctx.engine.cancel(short_name(job.id))
                    remove_shared_volume(self.ctx.settings, job.id)
                transitions.finish(db, experiment, ExperimentStatus.CANCELLED, "cancelled")
                return None
            if job.step_status == StepStatus.INITIALIZE:
                transitions.advance(db, experiment, job.step, StepStatus.RUNNING)
            return job

    def _act(self, worker: str, job: Job) -> Result:
        """Run the step function with no session open, renewing the lease meanwhile."""
        done = threading.Event()
        renewer = threading.Thread(target=self._renew, args=(worker, job.id, done), daemon=True)
        renewer.start()
        try:
            return masked(STEP_FUNCTIONS[job.step](job, self.ctx), job)
        except AichorError as error:
            return masked(Result(StepStatus.FAILED, error.message), job)
        except Exception as error:
            log.exception("%s %s", job.id, job.step)
            failure = f"{job.step} failed: {type(error).__name__}: {error}"
            return masked(Result(StepStatus.FAILED, failure), job)
        finally:
            done.set()
            renewer.join()

    def _renew(self, worker: str, experiment_id: str, done: threading.Event) -> None:
        while not done.wait(self.timing.lease_seconds / 3):
            with contextlib.suppress(Exception), session(self.db) as db:
                claim.guard(db, experiment_id, worker, self._until())

    def _apply(self, worker: str, job: Job, result: Result) -> bool:
        """Record the result; True when the next step should follow at once."""
        with session(self.db) as db:
            experiment = claim.guard(db, job.id, worker, self._until())
            if experiment is None:
                return False
            for column, value in result.updates.items():
                setattr(experiment, column, value)
            if job.step == Step.RUNNING or result.status is None:
                running = job.step == Step.RUNNING
                wait = self.timing.running_poll_seconds if running else self.timing.poll_seconds
                due = self.clock() + timedelta(seconds=wait)
                limit = self.ctx.settings.metrics_max_points
                return apply_outcome(db, experiment, result, due, max_points=limit)
            if result.status != StepStatus.SUCCEEDED:
                failed = (
                    ExperimentStatus.CANCELLED
                    if result.status == StepStatus.CANCELLED
                    else ExperimentStatus.FAILED
                )
                transitions.finish(db, experiment, failed, result.message)
                return False
            transitions.advance(db, experiment, job.step, StepStatus.SUCCEEDED, result.message)
            transitions.advance(db, experiment, NEXT_STEP[job.step], StepStatus.RUNNING)
            return True

    def _lease(self) -> timedelta:
        return timedelta(seconds=self.timing.lease_seconds)

    def _until(self) -> datetime:
        return self.clock() + self._lease()


def start(settings: Settings, *, timing: Timing = Timing()) -> Reconciler:
    """Start `settings.workers` pipeline threads in this process (none when it is 0)."""
    reconciler = Reconciler(
        make_engine(settings), context_for(settings), threads=settings.workers, timing=timing
    )
    return reconciler.start()


def wake(*, queued_on: str | None = None) -> None:
    """Tell this process's workers that something is due: a cancel, or a submission queued on
    the engine `queued_on` (see `Reconciler.wake`)."""
    with _running_lock:
        running = list(_running)
    for reconciler in running:
        reconciler.wake(queued_on=queued_on)
