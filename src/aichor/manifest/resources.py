"""What each replica asks for: `resources` and the replica groups that carry them."""

from __future__ import annotations

from typing import Annotated, Any, Self

from pydantic import Field, WithJsonSchema, model_validator

from aichor.manifest.base import ManifestModel, rule_violations


class GpuAccelerator(ManifestModel):
    """GPUs attached to each replica."""

    count: int = Field(0, ge=0, description="Number of GPUs per replica.")
    type: str = Field("gpu", description="Accelerator type; `gpu` for NVIDIA GPUs.")
    product: str | None = Field(
        None, description="GPU product label to schedule on, e.g. `NVIDIA-H100-80GB-HBM3`."
    )


class Accelerators(ManifestModel):
    """Accelerators attached to each replica."""

    gpu: GpuAccelerator | None = Field(None, description="GPUs per replica.")


# `devices` may be a list in YAML; the attribute stays a count, the names go to `device_names`.
_DEVICES_SCHEMA = WithJsonSchema(
    {
        "anyOf": [
            {"type": "integer", "minimum": 0},
            {"type": "array", "items": {"type": "string"}},
        ]
    }
)


class Rdma(ManifestModel):
    """RDMA network devices mounted into each replica."""

    devices: Annotated[int, _DEVICES_SCHEMA] = Field(
        0,
        ge=0,
        description="RDMA devices per replica: a number, or the list of device names "
        '(e.g. `["sriov_a", "sriov_b"]`), in which case the count is the list length.',
    )
    device_names: tuple[str, ...] = Field(
        (),
        alias="deviceNames",
        description="Names of the RDMA devices; filled from `devices` when it is a list.",
    )

    @model_validator(mode="before")
    @classmethod
    def _devices_as_names(cls, data: Any) -> Any:
        """Demo manifests list device names under `devices`; keep both the names and the count."""
        if isinstance(data, dict) and isinstance(data.get("devices"), list):
            names = data["devices"]
            return {**data, "devices": len(names), "deviceNames": names}
        return data

    @model_validator(mode="after")
    def _count_matches_names(self) -> Self:
        if self.device_names and self.devices != len(self.device_names):
            raise rule_violations(
                [(("devices",), f"is {self.devices} but {len(self.device_names)} names are given")]
            )
        return self


class Resources(ManifestModel):
    """What one replica asks for; memory is `cpus × ramRatio` GiB."""

    cpus: float = Field(1, gt=0, description="CPUs per replica.")
    ram_ratio: float = Field(
        2, gt=0, description="GiB of memory per CPU: memory = `cpus × ramRatio` GiB."
    )
    shm_size_gb: float | None = Field(
        None, ge=0, alias="shmSizeGB", description="Size of `/dev/shm` in GiB."
    )
    machine_name: str | None = Field(
        None, description="Run on this machine only (a node selector on its name)."
    )
    accelerators: Accelerators | None = Field(None, description="Accelerators per replica.")
    rdma: Rdma | None = Field(None, description="RDMA network devices per replica.")


class ReplicaGroup(ManifestModel):
    """A replica type: how many replicas and what each asks for."""

    count: int = Field(1, ge=1, description="Number of replicas of this type.")
    resources: Resources = Field(
        default_factory=Resources,
        description="Resources of each replica of this type.",
    )


class JobsetJob(ReplicaGroup):
    """A JobSet replicated job: `count` jobs, each running `completions` pods."""

    count: int = Field(1, ge=1, description="Number of jobs of this type.")
    completions: int = Field(1, ge=1, description="Pods each job runs to completion.")
    parallelisms: int = Field(1, ge=1, description="Pods of one job running at once.")
