"""`spec.types` for each operator: which replica types exist and the rules on their counts.

Replica-type keys are matched case-insensitively and normalised (`worker` → `Worker`), as the
Kubeflow training operator does; the JSON schema says the same through `patternProperties`.
"""

from __future__ import annotations

from typing import Any, Self

from pydantic import ConfigDict, Field, model_validator

from aichor.manifest.base import (
    ManifestModel,
    Problems,
    canonical_keys,
    case_insensitive_keys_schema,
    rule_violations,
)
from aichor.manifest.resources import ReplicaGroup, Resources
from aichor.manifest.rules import DnsLabel

_TYPES_CONFIG = ConfigDict(json_schema_extra=case_insensitive_keys_schema)


def _master_is_single(master: ReplicaGroup | None) -> Problems:
    if master is not None and master.count != 1:
        return [
            (("Master", "count"), f"must be 1 (there is exactly one Master), not {master.count}")
        ]
    return []


class PytorchTypes(ManifestModel):
    """PyTorchJob replicas: an optional single `Master` and any number of `Worker`s."""

    model_config = _TYPES_CONFIG

    master: ReplicaGroup | None = Field(
        None, alias="Master", description="The rank-0 replica; `count` must be 1."
    )
    worker: ReplicaGroup | None = Field(None, alias="Worker", description="The other replicas.")

    @model_validator(mode="before")
    @classmethod
    def _normalise_keys(cls, data: Any) -> Any:
        return canonical_keys(data, ("Master", "Worker"))

    @model_validator(mode="after")
    def _check_counts(self) -> Self:
        problems = _master_is_single(self.master)
        if self.master is None and self.worker is None:
            problems.append(((), "needs a Master, a Worker, or both"))
        if problems:
            raise rule_violations(problems)
        return self

    def replica_count(self) -> int:
        """Total replicas of every type."""
        return sum(group.count for group in (self.master, self.worker) if group is not None)


class XGBoostTypes(ManifestModel):
    """XGBoostJob replicas: a required single `Master` (the tracker) and optional `Worker`s."""

    model_config = _TYPES_CONFIG

    master: ReplicaGroup = Field(
        alias="Master", description="The tracker replica (rank 0); required, `count` must be 1."
    )
    worker: ReplicaGroup | None = Field(None, alias="Worker", description="The other replicas.")

    @model_validator(mode="before")
    @classmethod
    def _normalise_keys(cls, data: Any) -> Any:
        return canonical_keys(data, ("Master", "Worker"))

    @model_validator(mode="after")
    def _check_counts(self) -> Self:
        problems = _master_is_single(self.master)
        if problems:
            raise rule_violations(problems)
        return self

    def replica_count(self) -> int:
        """Total replicas of every type."""
        return self.master.count + (self.worker.count if self.worker else 0)


class JaxTypes(ManifestModel):
    """JAX replicas: `Worker` processes; process 0 is the coordinator."""

    model_config = _TYPES_CONFIG

    worker: ReplicaGroup = Field(alias="Worker", description="The JAX processes; required.")

    @model_validator(mode="before")
    @classmethod
    def _normalise_keys(cls, data: Any) -> Any:
        return canonical_keys(data, ("Worker",))

    def replica_count(self) -> int:
        """Total replicas."""
        return self.worker.count


class RayHead(ManifestModel):
    """The Ray head node; the experiment command runs there as the Ray job driver."""

    resources: Resources = Field(
        default_factory=Resources,
        description="Resources of the head node.",
    )


class RayJob(RayHead):
    """apiVersion 0.2.1 only: the pod of the legacy Ray driver.

    Accepted so old manifests keep loading; the command runs on the head (as KubeRay does), so
    these resources are not used.
    """

    resources: Resources = Field(
        default_factory=Resources,
        description="Resources of the legacy driver pod (accepted, not used).",
    )


class RayWorkerPool(ReplicaGroup):
    """A pool of identical Ray worker nodes; each node carries a custom resource named after it."""

    name: DnsLabel = Field(
        description="Pool name: a DNS-1123 label, unique, not `head`; also the Ray custom "
        "resource name tasks can request."
    )
    count: int = Field(1, ge=1, description="Number of worker nodes in this pool.")


class KuberayTypes(ManifestModel):
    """A Ray cluster: one `Head` and one or more `Workers` pools."""

    model_config = _TYPES_CONFIG

    head: RayHead = Field(alias="Head", description="The head node.")
    workers: list[RayWorkerPool] = Field(
        alias="Workers", min_length=1, description="Worker pools; at least one."
    )
    job: RayJob | None = Field(
        None,
        alias="Job",
        description="apiVersion 0.2.1 legacy driver pod; accepted and ignored (the command "
        "runs on the head).",
    )

    @model_validator(mode="before")
    @classmethod
    def _normalise_keys(cls, data: Any) -> Any:
        return canonical_keys(data, ("Head", "Workers", "Job"))

    @model_validator(mode="after")
    def _check_pool_names(self) -> Self:
        problems: Problems = []
        seen: set[str] = set()
        for index, pool in enumerate(self.workers):
            if pool.name == "head":
                problems.append(
                    (("Workers", index, "name"), "'head' is reserved for the head node")
                )
            elif pool.name in seen:
                problems.append((("Workers", index, "name"), f"duplicate pool name {pool.name!r}"))
            seen.add(pool.name)
        if problems:
            raise rule_violations(problems)
        return self

    def replica_count(self) -> int:
        """The head plus every worker node."""
        return 1 + sum(pool.count for pool in self.workers)
