"""A manifest `resources` block as a replica's `Resources`, and as Kubernetes requests/limits.

Memory is `cpus × ramRatio` GiB, as the manifest defines it. Kubernetes gets the same figures as
both requests and limits so a replica never gets more than it asked for on any engine.
"""

from __future__ import annotations

from typing import Any

from aichor.manifest import schema
from aichor.replicas import Resources

GPU_RESOURCE = "nvidia.com/gpu"
# The RDMA shared-device plugin's default resource name; clusters that name it otherwise will
# need this to come from engine settings.
RDMA_RESOURCE = "rdma/rdma_shared_device_a"


def replica_resources(block: schema.Resources) -> Resources:
    """What one replica of a manifest type asks for."""
    gpu = block.accelerators.gpu if block.accelerators else None
    return Resources(
        cpus=block.cpus,
        memory_gib=block.cpus * block.ram_ratio,
        shm_gib=block.shm_size_gb,
        gpus=gpu.count if gpu else 0,
        gpu_product=gpu.product if gpu else None,
        gpu_type=gpu.type if gpu else None,
        machine_name=block.machine_name,
        rdma_devices=block.rdma.devices if block.rdma else 0,
    )


def cpu_quantity(cpus: float) -> str:
    """`2` for whole CPUs, millicores (`500m`) otherwise."""
    return str(int(cpus)) if float(cpus).is_integer() else f"{round(cpus * 1000)}m"


def memory_quantity(gib: float) -> str:
    """`<n>Gi` for whole GiB, else whole MiB (`1536Mi`), a quantity every reader parses."""
    return f"{int(gib)}Gi" if float(gib).is_integer() else f"{round(gib * 1024)}Mi"


def kubernetes_resources(res: Resources) -> dict[str, Any]:
    """A container's `resources`: requests equal to limits (Guaranteed QoS)."""
    amounts: dict[str, Any] = {
        "cpu": cpu_quantity(res.cpus),
        "memory": memory_quantity(res.memory_gib),
    }
    if res.gpus:
        amounts[GPU_RESOURCE] = res.gpus
    if res.rdma_devices:
        amounts[RDMA_RESOURCE] = res.rdma_devices
    return {"requests": dict(amounts), "limits": dict(amounts)}
