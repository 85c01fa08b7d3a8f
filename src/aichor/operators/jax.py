"""The jax operator: AIchor's JAX runtime, a JobSet whose first pod is the coordinator.

One replicated job `worker` of `count` single-pod Jobs (`<workload>-worker-<i>-0`), so the
process id is the Job index. Every process gets AIchor's `JAXOPERATOR_*` variables (coordinator
address with port 1234) and Kubeflow's names (`COORDINATOR_ADDRESS` host only, same port).
Why JobSet and not Kubeflow's JAXJob: docs/decisions/020-jax-and-jobset-naming.md.
"""

from __future__ import annotations

from typing import Any

from aichor.manifest.schema import JaxSpec, Spec
from aichor.operators import indexed_jobs
from aichor.operators.base import RunContext, expect_spec
from aichor.operators.environment import host_port, replica_env
from aichor.operators.indexed_jobs import Pod, PodShape, ReplicatedJob
from aichor.operators.pod_template import EnvVar, env_list
from aichor.replicas import ReplicaPlan

REPLICATED_JOB = "worker"
CONTAINER = "jax"
PORT_NAME = "jax-coordinator"
COORDINATOR_PORT = 1234


def plan_replicas(spec: Spec, ctx: RunContext) -> ReplicaPlan:
    """`count` processes, ids 0…n-1; process 0 listens for the others on the coordinator port."""
    jobs = _replicated_jobs(expect_spec(spec, JaxSpec))
    coordinator = indexed_jobs.pods(ctx, jobs)[0]
    host = ctx.addressing.host(coordinator.name)
    port = ctx.addressing.port(coordinator.name, "jax", COORDINATOR_PORT)
    shared = _shared_vars(host, port, jobs[0].replicas)

    def pod_vars(pod: Pod) -> dict[str, str]:
        process_id = str(pod.job_index)
        return {**shared, "JAXOPERATOR_PROCESS_ID": process_id, "PROCESS_ID": process_id}

    return indexed_jobs.plan(spec, ctx, jobs, pod_vars)


def render_resource(spec: Spec, ctx: RunContext) -> dict[str, Any]:
    """A JobSet with `spec.coordinator` on pod 0 and the process id read from the Job index."""
    jobs = _replicated_jobs(expect_spec(spec, JaxSpec))
    coordinator = indexed_jobs.pods(ctx, jobs)[0]
    host = indexed_jobs.pod_fqdn(ctx, coordinator.name)
    shared = _shared_vars(host, COORDINATOR_PORT, jobs[0].replicas)

    def env(replicated: ReplicatedJob) -> list[EnvVar]:
        static = env_list(replica_env(ctx, shared))
        return static + indexed_jobs.job_index_env("JAXOPERATOR_PROCESS_ID", "PROCESS_ID")

    shape = PodShape(
        container=CONTAINER,
        env=env,
        ports={PORT_NAME: COORDINATOR_PORT},
        coordinator=coordinator,
    )
    return indexed_jobs.render(spec, ctx, jobs, shape)


def _replicated_jobs(spec: JaxSpec) -> list[ReplicatedJob]:
    worker = spec.types.worker
    return [ReplicatedJob(name=REPLICATED_JOB, replicas=worker.count, resources=worker.resources)]


def _shared_vars(host: str, port: int, processes: int) -> dict[str, str]:
    """The variables every process shares: where the coordinator is and how many there are."""
    return {
        "JAXOPERATOR_COORDINATOR_ADDRESS": host_port(host, port),
        "JAXOPERATOR_COORDINATOR_HOST": host,
        "JAXOPERATOR_NUM_PROCESSES": str(processes),
        "COORDINATOR_ADDRESS": host,
        "COORDINATOR_PORT": str(port),
        "NUM_PROCESSES": str(processes),
    }
