"""GPU use per replica through NVML (`pynvml`, from the `nvidia-ml-py` package), when present.

Imported lazily: on a machine without the package, without the NVIDIA driver or without a GPU
`GpuProbe.available` is False and `usage` returns nothing, so samples carry no GPU fields.
That is the case on the development machine, so only the skip path runs in tests there.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Mapping, Set
from types import ModuleType
from typing import Any


class GpuProbe:
    """Per-process GPU memory and SM utilisation, summed over each replica's processes."""

    def __init__(self) -> None:
        self._nvml = _load_nvml()
        self._last_seen: dict[int, int] = {}
        """Per device index: the newest utilisation timestamp already read (microseconds)."""

    @property
    def available(self) -> bool:
        return self._nvml is not None

    def usage(self, trees: Mapping[str, Set[int]]) -> dict[str, tuple[float, int]]:
        """replica → (utilisation percent, memory bytes); empty without NVML."""
        nvml = self._nvml
        if nvml is None:
            return {}
        memory: dict[int, int] = {}
        util: dict[int, float] = {}
        try:
            for index in range(nvml.nvmlDeviceGetCount()):
                handle = nvml.nvmlDeviceGetHandleByIndex(index)
                self._read_device(nvml, index, handle, memory, util)
        except nvml.NVMLError:
            return {}
        return {
            name: (
                round(sum(util.get(pid, 0.0) for pid in pids), 2),
                sum(memory.get(pid, 0) for pid in pids),
            )
            for name, pids in trees.items()
        }

    def _read_device(
        self,
        nvml: Any,
        index: int,
        handle: object,
        memory: dict[int, int],
        util: dict[int, float],
    ) -> None:
        for reader in (
            nvml.nvmlDeviceGetComputeRunningProcesses,
            nvml.nvmlDeviceGetGraphicsRunningProcesses,
        ):
            with contextlib.suppress(nvml.NVMLError):
                for process in reader(handle):
                    used = process.usedGpuMemory or 0  # None when the driver hides it
                    memory[process.pid] = memory.get(process.pid, 0) + int(used)
        with contextlib.suppress(nvml.NVMLError):  # not supported on every GPU
            samples = nvml.nvmlDeviceGetProcessUtilization(handle, self._last_seen.get(index, 0))
            for sample in samples:
                util[sample.pid] = util.get(sample.pid, 0.0) + float(sample.smUtil)
                self._last_seen[index] = max(self._last_seen.get(index, 0), sample.timeStamp)


def _load_nvml() -> ModuleType | None:
    """pynvml, initialised; None without the package, the driver or a device."""
    try:
        nvml = importlib.import_module("pynvml")
    except ImportError:
        return None
    try:
        nvml.nvmlInit()
        if nvml.nvmlDeviceGetCount() == 0:
            return None
    except Exception:  # NVMLError_LibraryNotFound, DriverNotLoaded, ...: no usable GPU here
        return None
    return nvml
