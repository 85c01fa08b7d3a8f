"""The Kubernetes pod template every operator's custom resource embeds.

One place for what AIchor adds to every pod whatever the operator: image and shell command,
environment, requests and limits, `/dev/shm`, node selection, security context, storage volumes
and graceful termination. Operators choose the container name, ports and restart policy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aichor.manifest.schema import ExistingPvc, Spec
from aichor.operators.base import RunContext
from aichor.operators.resources import kubernetes_resources
from aichor.replicas import Resources

EXPERIMENT_ID_LABEL = "aichor.ai/experiment-id"
WORKLOAD_LABEL = "aichor.ai/workload"
OPERATOR_LABEL = "aichor.ai/operator"
# GPU feature discovery labels nodes with the product name; the manifest's `product` matches it.
GPU_PRODUCT_LABEL = "nvidia.com/gpu.product"
# `machineName` pins a replica to one node, so it selects on the node's hostname label.
MACHINE_NAME_LABEL = "kubernetes.io/hostname"
SHM_VOLUME = "dshm"
SHM_PATH = "/dev/shm"  # noqa: S108 - a memory-backed volume mounted over the pod's own /dev/shm
SHARED_VOLUME = "shared-volume"
CAPABILITIES = {"perfmon": "PERFMON", "ptrace": "SYS_PTRACE"}

EnvVar = dict[str, Any]


@dataclass(frozen=True)
class Container:
    """The one container of a replica's pod, as the operator wants it."""

    name: str
    command: Sequence[str]
    """Empty: keep the image's entrypoint (Ray nodes, whose start command KubeRay writes)."""
    env: Sequence[EnvVar]
    resources: Resources
    ports: Mapping[str, int] = field(default_factory=dict)


def image(spec: Spec, ctx: RunContext) -> str:
    """The built image when the engine built one, else the manifest's `spec.image`."""
    return ctx.image or spec.image


def shell_command(spec: Spec) -> list[str]:
    """`spec.command` is a shell line (pipes, `&&`, variables), so a shell runs it."""
    return ["/bin/sh", "-c", spec.command]


def labels(spec: Spec, ctx: RunContext) -> dict[str, str]:
    """User labels first, then ours, so `extraLabels` cannot hide an experiment from the engine."""
    return {
        **spec.extra_labels,
        EXPERIMENT_ID_LABEL: ctx.experiment_id,
        WORKLOAD_LABEL: ctx.workload_name,
        OPERATOR_LABEL: spec.operator,
    }


def object_metadata(spec: Spec, ctx: RunContext) -> dict[str, Any]:
    """Metadata of the custom resource itself: named after the workload."""
    return {"name": ctx.workload_name, "namespace": ctx.namespace, "labels": labels(spec, ctx)}


def env_list(env: Mapping[str, str]) -> list[EnvVar]:
    """A variable mapping as a container's `env` list, order kept."""
    return [{"name": name, "value": value} for name, value in env.items()]


def annotation_env(name: str, annotation: str) -> EnvVar:
    """A variable read from a pod annotation at start (downward API), e.g. a JobSet index."""
    path = f"metadata.annotations['{annotation}']"
    return {"name": name, "valueFrom": {"fieldRef": {"fieldPath": path}}}


def pod_template(
    spec: Spec, ctx: RunContext, container: Container, *, restart_policy: str | None = None
) -> dict[str, Any]:
    """A `PodTemplateSpec` running `container` with everything the manifest asks of every pod."""
    pod: dict[str, Any] = {"containers": [_container(spec, ctx, container)]}
    if restart_policy:
        pod["restartPolicy"] = restart_policy
    if selector := _node_selector(container.resources):
        pod["nodeSelector"] = selector
    if volumes := _volumes(spec, ctx, container.resources):
        pod["volumes"] = volumes
    if security := _pod_security(spec):
        pod["securityContext"] = security
    if spec.graceful_termination:
        grace = spec.graceful_termination.termination_grace_period_seconds
        pod["terminationGracePeriodSeconds"] = grace
    return {"metadata": {"labels": labels(spec, ctx)}, "spec": pod}


def _container(spec: Spec, ctx: RunContext, container: Container) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": container.name,
        "image": image(spec, ctx),
        "env": list(container.env),
        "resources": kubernetes_resources(container.resources),
    }
    if container.command:
        body["command"] = list(container.command)
    if container.ports:
        body["ports"] = [
            {"name": name, "containerPort": port} for name, port in container.ports.items()
        ]
    if mounts := _volume_mounts(spec, container.resources):
        body["volumeMounts"] = mounts
    if spec.graceful_termination:
        # The shutdown command runs before SIGTERM, as on the other engines.
        shutdown = list(spec.graceful_termination.shutdown_command)
        body["lifecycle"] = {"preStop": {"exec": {"command": shutdown}}}
    if spec.security_context:
        added = [cap for key, cap in CAPABILITIES.items() if getattr(spec.security_context, key)]
        if added:
            body["securityContext"] = {"capabilities": {"add": added}}
    return body


def _pod_security(spec: Spec) -> dict[str, int]:
    context = spec.security_context
    if context is None:
        return {}
    ids = {"runAsUser": context.run_as_user, "runAsGroup": context.run_as_group}
    ids["fsGroup"] = context.fs_group
    return {key: value for key, value in ids.items() if value is not None}


def _node_selector(res: Resources) -> dict[str, str]:
    selector: dict[str, str] = {}
    if res.machine_name:
        selector[MACHINE_NAME_LABEL] = res.machine_name
    if res.gpus and res.gpu_product:
        selector[GPU_PRODUCT_LABEL] = res.gpu_product
    return selector


def _volumes(spec: Spec, ctx: RunContext, res: Resources) -> list[dict[str, Any]]:
    volumes: list[dict[str, Any]] = []
    if res.shm_gib:
        shm = {"medium": "Memory", "sizeLimit": f"{res.shm_gib:g}Gi"}
        volumes.append({"name": SHM_VOLUME, "emptyDir": shm})
    storage = spec.storage
    if storage and storage.shared_volume:
        claim = {"claimName": shared_volume_claim_name(ctx)}
        volumes.append({"name": SHARED_VOLUME, "persistentVolumeClaim": claim})
    for i, pvc in enumerate(_existing_pvcs(spec)):
        volumes.append({"name": f"pvc-{i}", "persistentVolumeClaim": {"claimName": pvc.name}})
    return volumes


def _volume_mounts(spec: Spec, res: Resources) -> list[dict[str, Any]]:
    mounts: list[dict[str, Any]] = []
    if res.shm_gib:
        mounts.append({"name": SHM_VOLUME, "mountPath": SHM_PATH})
    storage = spec.storage
    if storage and storage.shared_volume:
        mounts.append({"name": SHARED_VOLUME, "mountPath": storage.shared_volume.mount_point})
    for i, pvc in enumerate(_existing_pvcs(spec)):
        mounts.append({"name": f"pvc-{i}", "mountPath": pvc.mount_point})
    return mounts


def _existing_pvcs(spec: Spec) -> list[ExistingPvc]:
    return list(spec.storage.attach_existing_pvcs or []) if spec.storage else []


def shared_volume_claim_name(ctx: RunContext) -> str:
    """The experiment's shared volume is a PVC named after the workload."""
    return ctx.workload_name


def shared_volume_claim(spec: Spec, ctx: RunContext) -> dict[str, Any] | None:
    """The PVC a Kubernetes engine creates before the custom resource, when one is asked for."""
    shared = spec.storage.shared_volume if spec.storage else None
    if shared is None:
        return None
    claim: dict[str, Any] = {
        "accessModes": [shared.access_mode or "ReadWriteMany"],
        "resources": {"requests": {"storage": f"{shared.size_gb}Gi"}},
    }
    if shared.storage_class:
        claim["storageClassName"] = shared.storage_class
    metadata = {**object_metadata(spec, ctx), "name": shared_volume_claim_name(ctx)}
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": metadata,
        "spec": claim,
    }
