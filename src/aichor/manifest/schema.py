"""Pydantic models of `manifest.yaml` (apiVersion 0.2.1 to 0.2.3), strict (`extra="forbid"`).

Attribute names are snake_case; aliases are the manifest's own spelling, and error paths use
the aliases so users read the names they wrote. `spec` is a union discriminated by `operator`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class ManifestModel(BaseModel):
    """Base of every manifest block: unknown keys are errors, camelCase aliases."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
    )


class GpuAccelerator(ManifestModel):
    count: int = Field(0, ge=0, description="Number of GPUs per replica.")
    type: str = Field("gpu", description="Accelerator type.")
    product: str | None = Field(None, description="GPU product, e.g. Tesla-V100-SXM3-32GB.")


class Accelerators(ManifestModel):
    gpu: GpuAccelerator | None = None


class Rdma(ManifestModel):
    devices: int = Field(0, ge=0, description="Number of RDMA devices per replica.")


class Resources(ManifestModel):
    cpus: float = Field(1, gt=0, description="CPUs per replica.")
    ram_ratio: float = Field(2, gt=0, description="GiB of memory per CPU.")
    shm_size_gb: float | None = Field(None, ge=0, description="Size of /dev/shm in GiB.")
    machine_name: str | None = Field(None, description="Run on this machine (node selector).")
    accelerators: Accelerators | None = None
    rdma: Rdma | None = None


class ReplicaGroup(ManifestModel):
    count: int = Field(1, ge=1, description="Number of replicas of this type.")
    resources: Resources = Field(default_factory=Resources)  # type: ignore[arg-type]


class JobsetJob(ReplicaGroup):
    completions: int = Field(1, ge=1, description="Pods each job runs to completion.")
    parallelisms: int = Field(1, ge=1, description="Pods of one job running at once.")


class PytorchTypes(ManifestModel):
    master: ReplicaGroup | None = Field(None, alias="Master")
    worker: ReplicaGroup | None = Field(None, alias="Worker")


class XGBoostTypes(ManifestModel):
    master: ReplicaGroup = Field(alias="Master")
    worker: ReplicaGroup | None = Field(None, alias="Worker")


class JaxTypes(ManifestModel):
    worker: ReplicaGroup = Field(alias="Worker")


class RayHead(ManifestModel):
    resources: Resources = Field(default_factory=Resources)  # type: ignore[arg-type]


class RayWorkerPool(ManifestModel):
    name: str
    count: int = Field(1, ge=1)
    resources: Resources = Field(default_factory=Resources)  # type: ignore[arg-type]


class KuberayTypes(ManifestModel):
    head: RayHead = Field(alias="Head")
    workers: list[RayWorkerPool] = Field(alias="Workers")


class GracefulTermination(ManifestModel):
    shutdown_command: list[str]
    termination_grace_period_seconds: int = Field(gt=0)


class RestartPolicy(ManifestModel):
    backoff_limit: int = Field(0, ge=0)


class ExistingPvc(ManifestModel):
    name: str
    mount_point: str


class SharedVolume(ManifestModel):
    mount_point: str
    size_gb: int = Field(alias="sizeGB")
    access_mode: str | None = None
    storage_class: str | None = None


class Storage(ManifestModel):
    attach_existing_pvcs: list[ExistingPvc] | None = Field(None, alias="attachExistingPVCs")
    shared_volume: SharedVolume | None = None


class TensorboardPvc(ManifestModel):
    enabled: bool
    name: str | None = None


class Tensorboard(ManifestModel):
    enabled: bool
    use_pvc: TensorboardPvc | None = Field(None, alias="usePVC")


class Jupyter(ManifestModel):
    enabled: bool = False
    path: str | None = None


class Vscode(ManifestModel):
    enabled: bool = False
    path: str | None = None
    provider: Literal["github", "microsoft"] = "github"


class Debug(ManifestModel):
    jupyter: Jupyter | None = None
    vscode: Vscode | None = None


class SecurityContext(ManifestModel):
    run_as_user: int | None = Field(None, ge=0)
    run_as_group: int | None = Field(None, ge=0)
    fs_group: int | None = Field(None, ge=0)
    perfmon: bool = False
    ptrace: bool = False


class SpecBase(ManifestModel):
    """Fields shared by every operator."""

    image: str
    command: str
    engine_name: str | None = None
    env: dict[str, str] = Field(default_factory=dict)
    extra_labels: dict[str, str] = Field(default_factory=dict)
    active_deadline_seconds: int | None = Field(None, gt=0)
    timeout: str | None = None
    graceful_termination: GracefulTermination | None = None
    restart_policy: RestartPolicy = Field(default_factory=RestartPolicy)  # type: ignore[arg-type]
    security_context: SecurityContext | None = None
    storage: Storage | None = None
    tensorboard: Tensorboard | None = None
    debug: Debug | None = None


class PytorchSpec(SpecBase):
    operator: Literal["pytorch"]
    types: PytorchTypes


class XGBoostSpec(SpecBase):
    operator: Literal["xgboost"]
    types: XGBoostTypes


class JaxSpec(SpecBase):
    operator: Literal["jax"]
    types: JaxTypes


class JobsetSpec(SpecBase):
    operator: Literal["jobset"]
    types: dict[str, JobsetJob]


class KuberaySpec(SpecBase):
    operator: Literal["kuberay"]
    types: KuberayTypes


Spec = Annotated[
    PytorchSpec | XGBoostSpec | JaxSpec | JobsetSpec | KuberaySpec,
    Field(discriminator="operator"),
]


class Builder(ManifestModel):
    image: str | None = None
    dockerfile: str = "./Dockerfile"
    context: str = "."
    build_args: dict[str, str | bool | int | float] = Field(default_factory=dict)
    registry: str | None = None
    target: str | None = None


class Clone(ManifestModel):
    depth: int = Field(1, ge=1)
    include_dot_git: bool = False
    submodules: Literal["false", "true", "recursive"] = "false"


class Manifest(ManifestModel):
    kind: Literal["AIchorManifest"]
    api_version: Literal["0.2.1", "0.2.2", "0.2.3"]
    name: str | None = None
    builder: Builder
    clone: Clone = Field(default_factory=Clone)  # type: ignore[arg-type]
    spec: Spec
