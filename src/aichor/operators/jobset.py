"""The jobset operator: free-form types, each `count` Jobs of `completions` pods.

AIchor adds the JobSet indices as variables (`JOB_INDEX`, `JOB_GLOBAL_INDEX`, `GLOBAL_REPLICAS`,
`REPLICATED_JOB_NAME`, `REPLICATED_JOB_REPLICAS`, `JOBSET_NAME`) on top of Kubernetes'
`JOB_COMPLETION_INDEX`. The global index follows the manifest's order of types.
"""

from __future__ import annotations

from typing import Any

from aichor.manifest.schema import JobsetSpec, Spec
from aichor.operators import indexed_jobs
from aichor.operators.base import RunContext, expect_spec
from aichor.operators.environment import replica_env
from aichor.operators.indexed_jobs import Pod, PodShape, ReplicatedJob
from aichor.operators.pod_template import EnvVar, env_list
from aichor.replicas import ReplicaPlan

CONTAINER = "jobset"


def plan_replicas(spec: Spec, ctx: RunContext) -> ReplicaPlan:
    """`count × completions` pods per type, with their index variables; success when all do."""
    jobs = _replicated_jobs(expect_spec(spec, JobsetSpec))
    total = indexed_jobs.global_replicas(jobs)

    def pod_vars(pod: Pod) -> dict[str, str]:
        return {
            "JOB_INDEX": str(pod.job_index),
            "JOB_GLOBAL_INDEX": str(pod.global_job_index),
            **_static_vars(ctx, pod.replicated_job, total),
        }

    return indexed_jobs.plan(spec, ctx, jobs, pod_vars)


def render_resource(spec: Spec, ctx: RunContext) -> dict[str, Any]:
    """The JobSet; per-pod indices come from JobSet's annotations through the downward API."""
    jobs = _replicated_jobs(expect_spec(spec, JobsetSpec))
    total = indexed_jobs.global_replicas(jobs)

    def env(replicated: ReplicatedJob) -> list[EnvVar]:
        static = env_list(replica_env(ctx, _static_vars(ctx, replicated, total)))
        indices = [
            *indexed_jobs.job_index_env("JOB_INDEX"),
            indexed_jobs.job_global_index_env("JOB_GLOBAL_INDEX"),
        ]
        return static + indices

    return indexed_jobs.render(spec, ctx, jobs, PodShape(container=CONTAINER, env=env))


def _replicated_jobs(spec: JobsetSpec) -> list[ReplicatedJob]:
    return [
        ReplicatedJob(
            name=name,
            replicas=job.count,
            resources=job.resources,
            completions=job.completions,
            parallelism=job.parallelisms,
        )
        for name, job in spec.types.items()
    ]


def _static_vars(ctx: RunContext, replicated: ReplicatedJob, total: int) -> dict[str, str]:
    """The variables shared by every pod of a replicated job."""
    return {
        "GLOBAL_REPLICAS": str(total),
        "REPLICATED_JOB_NAME": replicated.name,
        "REPLICATED_JOB_REPLICAS": str(replicated.replicas),
        "JOBSET_NAME": ctx.workload_name,
    }
