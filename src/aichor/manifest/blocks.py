"""The optional blocks of `spec`: storage, tensorboard, debug, security, termination, restarts."""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import ConfigDict, Field, model_validator

from aichor.manifest.base import Location, ManifestModel, Problems, rule_violations
from aichor.manifest.rules import AbsolutePath, NonBlank


class GracefulTermination(ManifestModel):
    """A command run in each replica before it is stopped (a Kubernetes preStop hook)."""

    shutdown_command: list[NonBlank] = Field(
        min_length=1,
        description="Argument vector run before the replica is stopped, e.g. "
        '`["python", "save_checkpoint.py"]`; SIGTERM follows once it returns.',
    )
    termination_grace_period_seconds: int = Field(
        gt=0,
        description="Seconds allowed for the shutdown command and SIGTERM handling before "
        "SIGKILL. Without this block the grace period is 30 seconds.",
    )


class RestartPolicy(ManifestModel):
    """How often the experiment may be restarted after a failure."""

    backoff_limit: int = Field(
        0, ge=0, description="Restarts allowed before the experiment is marked failed."
    )


class ExistingPvc(ManifestModel):
    """An existing Persistent Volume Claim mounted into every replica."""

    name: NonBlank = Field(description="Name of the PVC.")
    mount_point: AbsolutePath = Field(description="Absolute mount path inside the container.")


class SharedVolume(ManifestModel):
    """A temporary volume shared by every replica, deleted when the experiment ends."""

    mount_point: AbsolutePath = Field(description="Absolute mount path inside the container.")
    size_gb: int = Field(gt=0, alias="sizeGB", description="Volume size in GiB.")
    access_mode: str | None = Field(
        None, description="Kubernetes access mode, e.g. `ReadWriteMany` (engine default if unset)."
    )
    storage_class: str | None = Field(
        None, description="Kubernetes storage class, e.g. `standard-rwo` (engine default if unset)."
    )


class Storage(ManifestModel):
    """Volumes attached to every replica."""

    attach_existing_pvcs: list[ExistingPvc] | None = Field(
        None, alias="attachExistingPVCs", description="Existing PVCs to mount in every replica."
    )
    shared_volume: SharedVolume | None = Field(
        None, description="A temporary volume shared by all replicas of the experiment."
    )

    @model_validator(mode="after")
    def _check_distinct(self) -> Self:
        problems: Problems = []
        mounts: dict[str, str] = {}
        names: set[str] = set()
        for index, pvc in enumerate(self.attach_existing_pvcs or []):
            if pvc.name in names:
                problems.append(
                    (("attachExistingPVCs", index, "name"), f"duplicate PVC {pvc.name!r}")
                )
            names.add(pvc.name)
            location = ("attachExistingPVCs", index)
            _claim_mount(mounts, pvc.mount_point, location, f"PVC {pvc.name!r}", problems)
        if self.shared_volume is not None:
            mount_point = self.shared_volume.mount_point
            _claim_mount(mounts, mount_point, ("sharedVolume",), "sharedVolume", problems)
        if problems:
            raise rule_violations(problems)
        return self


def _claim_mount(
    mounts: dict[str, str], path: str, location: Location, owner: str, problems: Problems
) -> None:
    """Record that `owner` mounts at `path`; a second owner of the same path is a problem."""
    normalised = path.rstrip("/") or "/"
    if normalised in mounts:
        problems.append(
            (
                (*location, "mountPoint"),
                f"{path!r} is already the mount point of {mounts[normalised]}",
            )
        )
    else:
        mounts[normalised] = owner


class TensorboardPvc(ManifestModel):
    """TensorBoard reads its logs from an attached PVC instead of object storage."""

    enabled: bool = Field(description="Read TensorBoard logs from a PVC.")
    name: str | None = Field(
        None,
        description="Name of one of `spec.storage.attachExistingPVCs`; the first one if unset.",
    )


class Tensorboard(ManifestModel):
    """A TensorBoard next to the experiment, reading `AICHOR_TENSORBOARD_PATH`."""

    enabled: bool = Field(description="Run TensorBoard for this experiment.")
    use_pvc: TensorboardPvc | None = Field(
        None,
        alias="usePVC",
        description="Read logs from a PVC; needs `spec.storage.attachExistingPVCs`.",
    )


class Jupyter(ManifestModel):
    """A Jupyter server on the Ray head (kuberay only)."""

    enabled: bool = Field(False, description="Start the Jupyter server.")
    path: str | None = Field(
        None, description="Path of the Jupyter binary; found on $PATH if unset."
    )


class Vscode(ManifestModel):
    """A VSCode tunnel into the experiment (every operator)."""

    enabled: bool = Field(False, description="Start the VSCode tunnel.")
    path: str | None = Field(None, description="Path of the VSCode CLI; found on $PATH if unset.")
    provider: Literal["github", "microsoft"] = Field(
        "github", description="Tunnel authentication provider."
    )


def _add_boolean_shorthand(schema: dict[str, Any]) -> None:
    """`jupyter: false` is accepted as `jupyter: {enabled: false}`; let editors know."""
    for name in ("jupyter", "vscode"):
        schema["properties"][name]["anyOf"].insert(-1, {"type": "boolean"})


class Debug(ManifestModel):
    """Interactive debugging tools attached to the experiment."""

    model_config = ConfigDict(json_schema_extra=_add_boolean_shorthand)

    jupyter: Jupyter | None = Field(
        None, description="Jupyter server on the Ray head; kuberay only. `true`/`false` allowed."
    )
    vscode: Vscode | None = Field(
        None, description="VSCode tunnel; every operator. `true`/`false` allowed."
    )

    @model_validator(mode="before")
    @classmethod
    def _boolean_shorthand(cls, data: Any) -> Any:
        """Demo manifests write `jupyter: false`; read it as `{enabled: false}`."""
        if not isinstance(data, dict):
            return data
        return {
            key: {"enabled": value}
            if key in ("jupyter", "vscode") and isinstance(value, bool)
            else value
            for key, value in data.items()
        }


class SecurityContext(ManifestModel):
    """Identity and extra capabilities of the experiment's processes."""

    run_as_user: int | None = Field(
        None, ge=0, description="UID of every process (0 is root); the image's user if unset."
    )
    run_as_group: int | None = Field(None, ge=0, description="Primary GID of every process.")
    fs_group: int | None = Field(
        None, ge=0, description="GID owning mounted volumes, so non-root processes can write."
    )
    perfmon: bool = Field(False, description="Grant CAP_PERFMON (profilers such as perf).")
    ptrace: bool = Field(False, description="Grant CAP_SYS_PTRACE (gdb, nsys).")
