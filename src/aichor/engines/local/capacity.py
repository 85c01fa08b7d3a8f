"""What this machine can hold, and how the local engine shares it between replicas.

`check_plan` rejects a plan that can never fit before anything starts (counting only the
replicas that run at the same time: jobset parallelism limits that) and lists what the local
engine cannot enforce. `Shares` hands out disjoint CPU cores (affinity) and GPU indices
(CUDA_VISIBLE_DEVICES) to replicas while they run, across every experiment of the engine.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import threading
from collections.abc import Iterable
from dataclasses import dataclass

import psutil

from aichor.errors import Conflict
from aichor.replicas import ReplicaKind, ReplicaPlan, ReplicaSpec, Resources

_GIB = 1024**3


@dataclass(frozen=True)
class Gpu:
    index: int
    name: str
    memory_mib: int


@dataclass(frozen=True)
class Machine:
    cores: tuple[int, ...]
    """CPU cores this process may run on (its affinity mask)."""
    memory_gib: float
    gpus: tuple[Gpu, ...]


def detect_machine() -> Machine:
    """This machine's usable cores, total memory and NVIDIA GPUs."""
    cores = tuple(sorted(os.sched_getaffinity(0)))
    memory = psutil.virtual_memory().total / _GIB
    return Machine(cores=cores, memory_gib=memory, gpus=tuple(_nvidia_gpus()))


def _nvidia_gpus() -> list[Gpu]:
    nvidia_smi = shutil.which("nvidia-smi")
    if nvidia_smi is None:
        return []
    query = [nvidia_smi, "--query-gpu=index,name,memory.total", "--format=csv,noheader,nounits"]
    try:
        out = subprocess.run(  # noqa: S603 - fixed argv, no shell
            query, capture_output=True, text=True, timeout=20, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return []
    gpus = []
    for row in out.stdout.splitlines():
        parts = [p.strip() for p in row.split(",")]
        if len(parts) == 3 and parts[0].isdigit():
            memory = int(float(parts[2])) if parts[2].replace(".", "").isdigit() else 0
            gpus.append(Gpu(index=int(parts[0]), name=parts[1], memory_mib=memory))
    return gpus


def check_plan(plan: ReplicaPlan, machine: Machine) -> list[str]:
    """Raise Conflict when the plan can never fit; return what cannot be enforced locally."""
    need = plan.peak_resources()
    problems = []
    if need.cpus > len(machine.cores) + 1e-9:
        problems.append(f"needs {_num(need.cpus)} CPUs, this machine has {len(machine.cores)}")
    if need.memory_gib > machine.memory_gib + 1e-9:
        problems.append(
            f"needs {_num(need.memory_gib)} GiB of memory, this machine has "
            f"{_num(round(machine.memory_gib, 1))} GiB"
        )
    if need.gpus > len(machine.gpus):
        problems.append(f"needs {need.gpus} GPUs, this machine has {len(machine.gpus)}")
    if problems:
        raise Conflict(f"{plan.workload_name} cannot run on this machine: " + "; ".join(problems))
    return unenforced_notes(plan.replicas, machine)


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def unenforced_notes(replicas: Iterable[ReplicaSpec], machine: Machine) -> list[str]:
    """One note per kind of request the local engine records but cannot enforce."""
    specs = [r for r in replicas if r.kind != ReplicaKind.RAY_DRIVER]
    notes = ["memory limits are not enforced by the local engine (requests are only checked)"]
    if any(r.resources.shm_gib for r in specs):
        notes.append("shmSizeGB is not enforced: replicas share this machine's /dev/shm")
    names = sorted({r.resources.machine_name for r in specs if r.resources.machine_name})
    if names:
        notes.append(f"machineName {', '.join(names)} ignored: everything runs on this machine")
    if any(r.resources.rdma_devices for r in specs):
        notes.append("rdma devices are not available to the local engine")
    products = sorted(
        {p for r in specs for p in (r.resources.gpu_product, r.resources.gpu_type) if p}
    )
    if products:
        have = ", ".join(sorted({g.name for g in machine.gpus})) or "none"
        notes.append(f"GPU product/type {', '.join(products)} not enforced (this machine: {have})")
    return notes


@dataclass(frozen=True)
class Share:
    """What one running replica was given."""

    cores: tuple[int, ...] | None
    """Pinned cores, or None when the replica could not get disjoint cores."""
    gpus: tuple[int, ...]


class Shares:
    """Disjoint cores and GPUs for replicas while they run; shared by every experiment."""

    def __init__(self, machine: Machine) -> None:
        self._lock = threading.Lock()
        self._free_cores = list(machine.cores)
        self._free_gpus = [g.index for g in machine.gpus]

    def acquire(self, resources: Resources, *, pin: bool = True) -> Share:
        """Cores = ceil(cpus) disjoint cores when that many are free; GPUs always exact."""
        want_cores = max(1, math.ceil(resources.cpus))
        with self._lock:
            cores: tuple[int, ...] | None = None
            if pin and want_cores <= len(self._free_cores):
                cores = tuple(self._free_cores[:want_cores])
                del self._free_cores[:want_cores]
            gpus = tuple(self._free_gpus[: resources.gpus])
            del self._free_gpus[: resources.gpus]
        return Share(cores=cores, gpus=gpus)

    def release(self, share: Share) -> None:
        with self._lock:
            self._free_cores = sorted(set(self._free_cores) | set(share.cores or ()))
            self._free_gpus = sorted(set(self._free_gpus) | set(share.gpus))
