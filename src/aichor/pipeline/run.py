"""Running: observe the engine's replicas, copy their lines into the log store, sample their
resource use (every `settings.metrics_interval_seconds`), await the end.

Each call is one look (the reconciler calls again after its poll interval), so a long run holds
no worker thread and a restarted server simply looks again: re-attaching is the normal path.
A cancel request is passed on to the engine, which then reports a Cancelled outcome.
"""

from __future__ import annotations

import time

from aichor.lifecycle import ExperimentStatus, StepStatus
from aichor.pipeline.work import Context, Job, Result
from aichor.replicas import MetricSample
from aichor.storage.volumes import remove_shared_volume

_BATCH = 5000


def act(job: Job, ctx: Context) -> Result:
    name = job.workload_name
    if job.cancel_requested:
        ctx.engine.cancel(name)
    outcome = ctx.engine.outcome(name)  # read before the lines: nothing is written after it
    _copy_lines(job, ctx)
    replicas = ctx.engine.observe(name)
    if outcome is None:
        return Result(None, replicas=replicas, samples=_sample(job, ctx))
    ctx.last_sampled.pop(job.id, None)
    ctx.engine.forget(name)
    remove_shared_volume(ctx.settings, job.id)  # `sharedVolume` lives as long as the run
    status = {
        ExperimentStatus.SUCCEEDED: StepStatus.SUCCEEDED,
        ExperimentStatus.CANCELLED: StepStatus.CANCELLED,
    }.get(outcome.status, StepStatus.FAILED)
    return Result(status, outcome.reason, outcome=outcome, replicas=replicas)


def _copy_lines(job: Job, ctx: Context) -> None:
    """Every engine line not yet in the store, in order (the store's count is the offset),
    secret values masked."""
    redactor = job.redactor()
    while True:
        after = ctx.logs.count(job.id)
        lines = ctx.engine.logs(job.workload_name, None, after)[:_BATCH]
        if not lines:
            return
        ctx.logs.append_replica_lines(job.id, redactor.log_lines(lines))


def _sample(job: Job, ctx: Context) -> list[MetricSample]:
    """The replicas' resource use, when the last sample here is an interval old."""
    now = time.monotonic()
    last = ctx.last_sampled.get(job.id)
    if last is not None and now - last < ctx.settings.metrics_interval_seconds:
        return []
    ctx.last_sampled[job.id] = now
    return ctx.engine.sample(job.workload_name)
