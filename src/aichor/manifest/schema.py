"""Pydantic models of `manifest.yaml` (apiVersion 0.2.1 to 0.2.3), strict (`extra="forbid"`).

Attribute names are snake_case; aliases are the manifest's own spelling, and error paths use
the aliases so users read the names they wrote. `spec` is a union discriminated by `operator`.
The blocks live in `resources`, `replica_types` and `blocks`; they are re-exported here so
callers import every manifest model from this one module.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import BeforeValidator, Field, WithJsonSchema, model_validator

from aichor.manifest.base import ManifestModel, Problems, rule_violations
from aichor.manifest.blocks import (
    Debug,
    ExistingPvc,
    GracefulTermination,
    Jupyter,
    RestartPolicy,
    SecurityContext,
    SharedVolume,
    Storage,
    Tensorboard,
    TensorboardPvc,
    Vscode,
)
from aichor.manifest.replica_types import (
    JaxTypes,
    KuberayTypes,
    PytorchTypes,
    RayHead,
    RayJob,
    RayWorkerPool,
    XGBoostTypes,
)
from aichor.manifest.resources import (
    Accelerators,
    GpuAccelerator,
    JobsetJob,
    Rdma,
    ReplicaGroup,
    Resources,
)
from aichor.manifest.rules import (
    JOBSET_TYPE_PATTERN,
    BuildArgValue,
    EnvName,
    LabelKey,
    LabelValue,
    NonBlank,
    ScalarText,
    Timeout,
    parse_timeout,
)

__all__ = [
    "API_VERSIONS",
    "OPERATORS",
    "Accelerators",
    "Builder",
    "Clone",
    "Debug",
    "ExistingPvc",
    "GpuAccelerator",
    "GracefulTermination",
    "JaxSpec",
    "JaxTypes",
    "JobsetJob",
    "JobsetSpec",
    "Jupyter",
    "KuberaySpec",
    "KuberayTypes",
    "Manifest",
    "PytorchSpec",
    "PytorchTypes",
    "RayHead",
    "RayJob",
    "RayWorkerPool",
    "Rdma",
    "ReplicaGroup",
    "Resources",
    "RestartPolicy",
    "SecurityContext",
    "SharedVolume",
    "Spec",
    "SpecBase",
    "Storage",
    "Tensorboard",
    "TensorboardPvc",
    "Vscode",
    "XGBoostSpec",
    "XGBoostTypes",
]

API_VERSIONS = ("0.2.1", "0.2.2", "0.2.3")
OPERATORS = ("kuberay", "jax", "pytorch", "xgboost", "jobset")


class SpecBase(ManifestModel):
    """Fields shared by every operator."""

    operator: str = Field(description="The operator that runs the workload.")
    image: NonBlank = Field(description="Docker image to run; must equal `builder.image`.")
    command: NonBlank = Field(
        description="Command run in the container, e.g. `python3 -u main.py`."
    )
    engine_name: str | None = Field(
        None, description="Engine to run on; the project's default engine if unset."
    )
    env: dict[EnvName, ScalarText] = Field(
        default_factory=dict,
        description="Experiment variables (numbers and booleans become text); they override "
        "project variables. Platform and operator variables (AICHOR_*, VCS_*, MASTER_ADDR, "
        "RANK, …) cannot be set.",
    )
    extra_labels: dict[LabelKey, LabelValue] = Field(
        default_factory=dict, description="Extra Kubernetes labels on the experiment's pods."
    )
    active_deadline_seconds: int | None = Field(
        None, gt=0, description="Maximum running time in seconds; `timeout` wins when both are set."
    )
    timeout: Timeout | None = Field(
        None,
        description="Maximum running time, e.g. `1w 2d 5h 6m 20s` (units w, d, h, m, s, each "
        "at most once, in that order); wins over `activeDeadlineSeconds`.",
    )
    graceful_termination: GracefulTermination | None = Field(
        None, description="Command run in each replica before it is stopped."
    )
    restart_policy: RestartPolicy = Field(
        default_factory=RestartPolicy,
        description="Restarts allowed after a failure.",
    )
    security_context: SecurityContext | None = Field(
        None, description="User, group and capabilities of the experiment's processes."
    )
    storage: Storage | None = Field(None, description="Volumes mounted into every replica.")
    tensorboard: Tensorboard | None = Field(None, description="TensorBoard for the experiment.")
    debug: Debug | None = Field(None, description="Jupyter (kuberay) and VSCode tunnel.")

    def deadline_seconds(self) -> int | None:
        """Maximum running time in seconds: `timeout` over `activeDeadlineSeconds`, else None."""
        if self.timeout is not None:
            return parse_timeout(self.timeout)
        return self.active_deadline_seconds

    @model_validator(mode="after")
    def _check_spec_rules(self) -> Self:
        problems: Problems = []
        jupyter = self.debug.jupyter if self.debug else None
        if jupyter is not None and jupyter.enabled and self.operator != "kuberay":
            problems.append((("debug", "jupyter"), "is only available with operator kuberay"))
        use_pvc = self.tensorboard.use_pvc if self.tensorboard else None
        if use_pvc is not None and use_pvc.enabled:
            pvcs = (
                [pvc.name for pvc in (self.storage.attach_existing_pvcs or [])]
                if self.storage
                else []
            )
            if not pvcs:
                problems.append(
                    (("tensorboard", "usePVC"), "needs spec.storage.attachExistingPVCs")
                )
            elif use_pvc.name is not None and use_pvc.name not in pvcs:
                problems.append(
                    (
                        ("tensorboard", "usePVC", "name"),
                        f"{use_pvc.name!r} is not in spec.storage.attachExistingPVCs "
                        f"({', '.join(pvcs)})",
                    )
                )
        if problems:
            raise rule_violations(problems)
        return self


class PytorchSpec(SpecBase):
    """PyTorch distributed training (Kubeflow PyTorchJob)."""

    operator: Literal["pytorch"] = Field(description="PyTorch distributed training.")
    types: PytorchTypes = Field(description="`Master` (at most one) and `Worker` replicas.")

    def replica_count(self) -> int:
        """Total replicas (pods)."""
        return self.types.replica_count()


class XGBoostSpec(SpecBase):
    """XGBoost distributed training (Kubeflow XGBoostJob)."""

    operator: Literal["xgboost"] = Field(description="XGBoost distributed training.")
    types: XGBoostTypes = Field(description="`Master` (exactly one) and `Worker` replicas.")

    def replica_count(self) -> int:
        """Total replicas (pods)."""
        return self.types.replica_count()


class JaxSpec(SpecBase):
    """JAX distributed training."""

    operator: Literal["jax"] = Field(description="JAX distributed training.")
    types: JaxTypes = Field(description="`Worker` processes.")

    def replica_count(self) -> int:
        """Total replicas (pods)."""
        return self.types.replica_count()


class JobsetSpec(SpecBase):
    """A generic Kubernetes JobSet: named replicated jobs."""

    operator: Literal["jobset"] = Field(description="Generic Kubernetes JobSet.")
    types: dict[Annotated[str, Field(pattern=JOBSET_TYPE_PATTERN)], JobsetJob] = Field(
        min_length=1,
        json_schema_extra={"additionalProperties": False},
        description="Replicated jobs by name (lowercase letters, digits and '-', starting with "
        "a letter); at least one.",
    )

    def replica_count(self) -> int:
        """Total pods: for each type, `count` jobs of `completions` pods."""
        return sum(job.count * job.completions for job in self.types.values())


class KuberaySpec(SpecBase):
    """A Ray cluster managed by KubeRay; the command is the Ray job driver."""

    operator: Literal["kuberay"] = Field(description="Ray cluster managed by KubeRay.")
    types: KuberayTypes = Field(description="`Head` node and `Workers` pools.")

    def replica_count(self) -> int:
        """Total Ray nodes (head and workers)."""
        return self.types.replica_count()


Spec = Annotated[
    PytorchSpec | XGBoostSpec | JaxSpec | JobsetSpec | KuberaySpec,
    Field(discriminator="operator"),
]


class Builder(ManifestModel):
    """How to build the experiment's Docker image."""

    image: str | None = Field(
        None, description="Name of the image to build; must equal `spec.image`."
    )
    dockerfile: str = Field(
        "./Dockerfile", description="Path to the Dockerfile, relative to the repository root."
    )
    context: str = Field(".", description="Docker build context, relative to the repository root.")
    build_args: dict[str, BuildArgValue] = Field(
        default_factory=dict, description="Docker build arguments (`--build-arg`)."
    )
    registry: str | None = Field(None, description="Registry prefix to push and pull the image.")
    target: str | None = Field(None, description="Stage of a multi-stage Dockerfile (`--target`).")


def _submodules_text(value: Any) -> Any:
    """YAML users write `submodules: true`; the reference spells the values as strings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


class Clone(ManifestModel):
    """How the repository is cloned for the experiment."""

    depth: int = Field(1, ge=1, description="Commits to fetch; 1 is a shallow clone.")
    include_dot_git: bool = Field(
        False, description="Keep the `.git` directory; needed for submodules."
    )
    submodules: Annotated[
        Literal["false", "true", "recursive"],
        BeforeValidator(_submodules_text),
        WithJsonSchema({"enum": ["false", "true", "recursive", False, True]}),
    ] = Field(
        "false",
        description="Submodules to clone when `includeDotGit` is true: `false`, `true` "
        "(non-recursive) or `recursive`.",
    )


class Manifest(ManifestModel):
    """An AIchor manifest: how to build the image and how to run the experiment."""

    kind: Literal["AIchorManifest"] = Field(description="Always `AIchorManifest`.")
    api_version: Literal["0.2.1", "0.2.2", "0.2.3"] = Field(
        description="Schema version; `0.2.3` for new manifests (0.2.1 and 0.2.2 still accepted)."
    )
    name: str | None = Field(None, description="Human-readable name of the manifest.")
    builder: Builder = Field(description="How to build the image.")
    clone: Clone = Field(
        default_factory=Clone,
        description="How the repository is cloned.",
    )
    spec: Spec = Field(description="What to run and on which operator.")

    @model_validator(mode="after")
    def _check_image(self) -> Self:
        if self.builder.image is not None and self.builder.image != self.spec.image:
            raise rule_violations(
                [
                    (
                        ("builder", "image"),
                        f"{self.builder.image!r} must equal spec.image ({self.spec.image!r})",
                    )
                ]
            )
        return self
