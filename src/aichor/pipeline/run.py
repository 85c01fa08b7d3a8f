"""Running: observe the engine's replicas, have their lines streamed into the log store, await
the end (then drain the last lines before reporting it).

Each call is one look (the reconciler calls again after its poll interval), so a long run holds
no worker thread and a restarted server simply looks again: re-attaching is the normal path.
A cancel request is passed on to the engine, which then reports a Cancelled outcome.
"""

from __future__ import annotations

from aichor.lifecycle import ExperimentStatus, StepStatus
from aichor.pipeline.log_copy import copy_lines
from aichor.pipeline.work import Context, Job, Result


def act(job: Job, ctx: Context) -> Result:
    name = job.workload_name
    if job.cancel_requested:
        ctx.engine.cancel(name)
    outcome = ctx.engine.outcome(name)  # read before the lines: nothing is written after it
    replicas = ctx.engine.observe(name)
    if outcome is None:
        ctx.pump.watch(job.id, name)  # the pump streams the lines while it runs
        return Result(None, replicas=replicas)
    ctx.pump.unwatch(job.id)
    copy_lines(ctx.engine, ctx.logs, job.id, name)  # every line is stored before the end is
    ctx.engine.forget(name)
    status = {
        ExperimentStatus.SUCCEEDED: StepStatus.SUCCEEDED,
        ExperimentStatus.CANCELLED: StepStatus.CANCELLED,
    }.get(outcome.status, StepStatus.FAILED)
    return Result(status, outcome.reason, outcome=outcome, replicas=replicas)
