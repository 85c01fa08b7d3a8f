"""The JobSet layout shared by the jobset and jax operators: replicated Indexed Jobs.

A replicated job of `replicas` Jobs, each running `completions` pods (at most `parallelism` at
once), gives pods whose hostnames are `<jobset>-<replicatedJob>-<jobIndex>-<completionIndex>`.
Kubernetes injects `JOB_COMPLETION_INDEX` into every pod of an Indexed Job; JobSet puts its
indices on pod annotations, which the rendered pods read through the downward API.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aichor.manifest import schema
from aichor.operators.base import RunContext
from aichor.operators.deadline import deadline_seconds
from aichor.operators.environment import replica_env
from aichor.operators.pod_template import (
    Container,
    EnvVar,
    annotation_env,
    labels,
    object_metadata,
    pod_template,
    shell_command,
)
from aichor.operators.resources import replica_resources
from aichor.replicas import ReplicaKind, ReplicaPlan, ReplicaSpec, SuccessRule

JOBSET_ANNOTATION_PREFIX = "jobset.sigs.k8s.io/"
JOB_INDEX_ANNOTATION = JOBSET_ANNOTATION_PREFIX + "job-index"
JOB_GLOBAL_INDEX_ANNOTATION = JOBSET_ANNOTATION_PREFIX + "job-global-index"


@dataclass(frozen=True)
class ReplicatedJob:
    """One `replicatedJobs[]` entry: `replicas` Jobs of `completions` pods each."""

    name: str
    replicas: int
    resources: schema.Resources
    completions: int = 1
    parallelism: int = 1


@dataclass(frozen=True)
class Pod:
    """One pod of the JobSet, with every index JobSet and Kubernetes give it."""

    name: str
    job: str
    replicated_job: ReplicatedJob
    job_index: int
    completion_index: int
    global_job_index: int


PodVars = Callable[[Pod], Mapping[str, str]]
"""A pod → the variables its operator adds (on top of `JOB_COMPLETION_INDEX`)."""


@dataclass(frozen=True)
class PodShape:
    """What an operator puts in every pod of the rendered JobSet."""

    container: str
    env: Callable[[ReplicatedJob], Sequence[EnvVar]]
    ports: Mapping[str, int] = field(default_factory=dict)
    coordinator: Pod | None = None


def pods(ctx: RunContext, jobs: Sequence[ReplicatedJob]) -> list[Pod]:
    """Every pod, replicated jobs in the given (manifest) order, then job, then completion."""
    layout: list[Pod] = []
    jobs_before = 0  # JobSet's global job index counts the jobs of earlier replicated jobs
    for replicated in jobs:
        for job_index in range(replicated.replicas):
            job = f"{ctx.workload_name}-{replicated.name}-{job_index}"
            for completion in range(replicated.completions):
                pod = Pod(
                    name=f"{job}-{completion}",
                    job=job,
                    replicated_job=replicated,
                    job_index=job_index,
                    completion_index=completion,
                    global_job_index=jobs_before + job_index,
                )
                layout.append(pod)
        jobs_before += replicated.replicas
    return layout


def global_replicas(jobs: Sequence[ReplicatedJob]) -> int:
    """Number of Jobs across the JobSet (JobSet's `global-replicas`)."""
    return sum(replicated.replicas for replicated in jobs)


def pod_fqdn(ctx: RunContext, pod_name: str) -> str:
    """The name a pod is reached by inside the cluster: `<hostname>.<subdomain>`."""
    return f"{pod_name}.{ctx.workload_name}"


def plan(
    spec: schema.SpecBase, ctx: RunContext, jobs: Sequence[ReplicatedJob], pod_vars: PodVars
) -> ReplicaPlan:
    """One TASK replica per pod; success when all succeed; parallelism per Job."""
    replicas = tuple(
        ReplicaSpec(
            name=pod.name,
            replica_type=pod.replicated_job.name,
            index=pod.job_index * pod.replicated_job.completions + pod.completion_index,
            kind=ReplicaKind.TASK,
            command=spec.command,
            env=replica_env(
                ctx, {"JOB_COMPLETION_INDEX": str(pod.completion_index), **pod_vars(pod)}
            ),
            resources=replica_resources(pod.replicated_job.resources),
            job=pod.job,
        )
        for pod in pods(ctx, jobs)
    )
    parallelism = {pod.job: pod.replicated_job.parallelism for pod in pods(ctx, jobs)}
    return ReplicaPlan(ctx.workload_name, replicas, SuccessRule.ALL, parallelism)


def render(
    spec: schema.Spec, ctx: RunContext, jobs: Sequence[ReplicatedJob], shape: PodShape
) -> dict[str, Any]:
    """The `jobset.x-k8s.io/v1alpha2` JobSet: DNS hostnames on, all Jobs must succeed."""
    body: dict[str, Any] = {
        "network": {"enableDNSHostnames": True, "subdomain": ctx.workload_name},
        "successPolicy": {"operator": "All"},
        # Every failed Job restarts the whole gang, up to restartPolicy.backoffLimit times.
        "failurePolicy": {"maxRestarts": spec.restart_policy.backoff_limit},
        "replicatedJobs": [_replicated_job(spec, ctx, job, shape) for job in jobs],
    }
    if shape.coordinator:
        body["coordinator"] = {
            "replicatedJob": shape.coordinator.replicated_job.name,
            "jobIndex": shape.coordinator.job_index,
            "podIndex": shape.coordinator.completion_index,
        }
    return {
        "apiVersion": "jobset.x-k8s.io/v1alpha2",
        "kind": "JobSet",
        "metadata": object_metadata(spec, ctx),
        "spec": body,
    }


def _replicated_job(
    spec: schema.Spec, ctx: RunContext, replicated: ReplicatedJob, shape: PodShape
) -> dict[str, Any]:
    container = Container(
        name=shape.container,
        command=shell_command(spec),
        env=shape.env(replicated),
        resources=replica_resources(replicated.resources),
        ports=shape.ports,
    )
    job: dict[str, Any] = {
        "completionMode": "Indexed",
        "completions": replicated.completions,
        "parallelism": replicated.parallelism,
        # A failed pod fails its Job at once, so the JobSet failure policy decides restarts.
        "backoffLimit": 0,
        "template": pod_template(spec, ctx, container, restart_policy="Never"),
    }
    if deadline := deadline_seconds(spec):
        job["activeDeadlineSeconds"] = deadline
    return {
        "name": replicated.name,
        "replicas": replicated.replicas,
        "template": {"metadata": {"labels": labels(spec, ctx)}, "spec": job},
    }


def job_index_env(*names: str) -> list[EnvVar]:
    """Variables holding the pod's Job index within its replicated job (downward API)."""
    return [annotation_env(name, JOB_INDEX_ANNOTATION) for name in names]


def job_global_index_env(name: str) -> EnvVar:
    """A variable holding the pod's Job index across the JobSet (downward API)."""
    return annotation_env(name, JOB_GLOBAL_INDEX_ANNOTATION)
