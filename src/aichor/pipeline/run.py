"""Running: observe the engine's replicas, have their lines streamed into the log store (secret
values masked), sample their resource use (every `settings.metrics_interval_seconds`), await
the end (then drain the last lines before reporting it).

Each call is one look (the reconciler calls again after its poll interval), so a long run holds
no worker thread and a restarted server simply looks again: re-attaching is the normal path.
A cancel request is passed on to the engine, which then reports a Cancelled outcome.
"""

from __future__ import annotations

import time

from aichor.lifecycle import ExperimentStatus, StepStatus
from aichor.pipeline.log_copy import copy_lines
from aichor.pipeline.work import Context, Job, Result
from aichor.replicas import MetricSample
from aichor.storage.volumes import remove_shared_volume


def act(job: Job, ctx: Context) -> Result:
    name = job.workload_name
    if job.cancel_requested:
        ctx.engine.cancel(name)
    outcome = ctx.engine.outcome(name)  # read before the lines: nothing is written after it
    replicas = ctx.engine.observe(name)
    if outcome is None:
        ctx.pump.watch(job.id, name, job.redactor())  # the pump streams the lines while it runs
        return Result(None, replicas=replicas, samples=_sample(job, ctx))
    ctx.last_sampled.pop(job.id, None)
    ctx.pump.unwatch(job.id)
    copy_lines(ctx.engine, ctx.logs, job.id, name, job.redactor())  # all stored before the end
    ctx.engine.forget(name)
    remove_shared_volume(ctx.settings, job.id)  # `sharedVolume` lives as long as the run
    status = {
        ExperimentStatus.SUCCEEDED: StepStatus.SUCCEEDED,
        ExperimentStatus.CANCELLED: StepStatus.CANCELLED,
    }.get(outcome.status, StepStatus.FAILED)
    return Result(status, outcome.reason, outcome=outcome, replicas=replicas)


def _sample(job: Job, ctx: Context) -> list[MetricSample]:
    """The replicas' resource use, when the last sample here is an interval old."""
    now = time.monotonic()
    last = ctx.last_sampled.get(job.id)
    if last is not None and now - last < ctx.settings.metrics_interval_seconds:
        return []
    ctx.last_sampled[job.id] = now
    return ctx.engine.sample(job.workload_name)
