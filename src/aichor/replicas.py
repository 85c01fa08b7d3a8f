"""The replica vocabulary shared by operators (who plan replicas) and engines (who run them).

Plain frozen dataclasses, no I/O. An operator turns a manifest into a `ReplicaPlan`; an engine
runs the plan and reports `ReplicaState`s and `LogLine`s. Neither imports the other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from aichor.lifecycle import ReplicaStatus


@dataclass(frozen=True)
class Resources:
    """What one replica asks for. Memory is `cpus × ramRatio` GiB, as the manifest defines it."""

    cpus: float = 1.0
    memory_gib: float = 2.0
    shm_gib: float | None = None
    gpus: int = 0
    gpu_product: str | None = None
    gpu_type: str | None = None
    machine_name: str | None = None
    rdma_devices: int = 0


class ReplicaKind(StrEnum):
    """How an engine starts a replica."""

    TASK = "task"
    """Runs the experiment command to completion (pytorch, jax, xgboost, jobset pods)."""
    RAY_HEAD = "ray-head"
    """A Ray head node; lives until the experiment ends."""
    RAY_WORKER = "ray-worker"
    """A Ray worker node joining the head; lives until the experiment ends."""
    RAY_DRIVER = "ray-driver"
    """Runs the experiment command once every Ray node of the plan has joined the cluster."""


@dataclass(frozen=True)
class RayNode:
    """How to start one Ray node (`ray start`), as KubeRay's generated start command would."""

    gcs_host: str
    gcs_port: int
    dashboard_port: int
    num_cpus: float
    num_gpus: int
    memory_bytes: int
    custom_resources: Mapping[str, float]


@dataclass(frozen=True)
class ReplicaSpec:
    """One replica (pod) as the real Kubernetes operator would create it."""

    name: str
    """Hostname as the operator names it, e.g. `experiment-3e21cd11-06c0-worker-0`."""
    replica_type: str
    """`Master`, `Worker`, `head`, a Ray pool name or a jobset type key."""
    index: int
    kind: ReplicaKind
    command: str
    """Shell command run as the container's command; empty for Ray nodes."""
    env: Mapping[str, str]
    resources: Resources
    job: str
    """The Kubernetes Job this pod belongs to (jobset: `<name>-<type>-<jobIndex>`); else `name`."""
    ray: RayNode | None = None


class SuccessRule(StrEnum):
    """When the experiment as a whole has succeeded."""

    MASTER = "master"
    """The `Master` replica succeeded (pytorch with a Master, xgboost); workers are not awaited."""
    ALL = "all"
    """Every TASK replica succeeded (jax, jobset, pytorch without a Master)."""
    DRIVER = "driver"
    """The RAY_DRIVER replica exited 0 (kuberay)."""


@dataclass(frozen=True)
class ReplicaPlan:
    """Everything an engine needs to lay out the gang; engine-neutral."""

    workload_name: str
    replicas: tuple[ReplicaSpec, ...]
    success: SuccessRule
    parallelism: Mapping[str, int] = field(default_factory=dict)
    """Per `ReplicaSpec.job`: at most this many of its replicas run at once (jobset)."""

    def peak_resources(self) -> Resources:
        """CPUs, memory and GPUs held at the busiest moment of the plan.

        Replicas of one job run at most `parallelism[job]` at a time, so a job counts only its
        largest `parallelism` replicas. Ray drivers borrow the head's resources and count for none.
        """
        by_job: dict[str, list[Resources]] = {}
        for replica in self.replicas:
            if replica.kind != ReplicaKind.RAY_DRIVER:
                by_job.setdefault(replica.job, []).append(replica.resources)
        return Resources(
            cpus=self._sum_largest(by_job, "cpus"),
            memory_gib=self._sum_largest(by_job, "memory_gib"),
            gpus=int(self._sum_largest(by_job, "gpus")),
        )

    def _sum_largest(self, by_job: Mapping[str, list[Resources]], attribute: str) -> float:
        total = 0.0
        for job, resources in by_job.items():
            limit = max(self.parallelism.get(job, len(resources)), 0)
            values = sorted((float(getattr(r, attribute)) for r in resources), reverse=True)
            total += sum(values[:limit])
        return total


@dataclass(frozen=True)
class ReplicaState:
    """What an engine reports about one replica."""

    name: str
    status: ReplicaStatus
    exit_code: int | None = None
    restarts: int = 0
    reason: str | None = None


@dataclass(frozen=True)
class LogLine:
    """One line of output, stamped in UTC when the engine read it."""

    timestamp: datetime
    source: str
    """A replica name, or `build` / `aichor` for lines about the run itself."""
    text: str


@dataclass(frozen=True)
class MetricSample:
    """Resource use of one replica at one instant, as an engine measured it.

    `cpu` is in cores (1.0 = one core busy); memory is the resident set of the replica's whole
    process tree. GPU fields are None where the engine cannot see GPUs (no NVML).
    """

    replica: str
    at: datetime
    cpu: float
    memory_bytes: int
    gpu_util: float | None = None
    """Percent of the replica's GPUs' compute in use (0-100 per GPU, summed)."""
    gpu_memory_bytes: int | None = None
