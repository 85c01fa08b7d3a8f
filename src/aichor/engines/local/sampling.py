"""Resource use of the local engine's replicas: CPU, resident memory and (with NVML) GPU.

Both local engines call `ProcessSampler.sample` from their `sample(name)` with each running
replica's session leader (a replica process is started in its own session, see processes.py).
A replica's tree is every process in that session plus every descendant of one of them, so
children that start a new session of their own (Ray's raylet) still count. One pass over the
process table per call; per process only `/proc/<pid>/stat` and `statm` are read.

CPU is a rate, so the sampler remembers each process's CPU time from the previous call; a
process seen for the first time is measured over its lifetime instead (no sleeping to measure).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime

import psutil

from aichor.engines.local.gpu_usage import GpuProbe
from aichor.replicas import MetricSample

_ProcessKey = tuple[int, float]
"""(pid, create time): a pid reused by a later process is another key."""


class ProcessSampler:
    """Measures process trees; keeps each workload's previous CPU times to make rates.

    Thread-safe: the pipeline's worker threads sample different workloads at once.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._previous: dict[str, dict[_ProcessKey, tuple[float, float]]] = {}
        self._gpu: GpuProbe | None = None

    def sample(self, workload: str, leaders: Mapping[str, int]) -> list[MetricSample]:
        """One sample per replica of `leaders` (replica name → session leader pid)."""
        if not leaders:
            return []
        trees = process_trees(leaders.values())
        with self._lock:
            if self._gpu is None:
                self._gpu = GpuProbe()  # loads NVML once, on the first sample
            previous = self._previous.get(workload, {})
            gpu = self._gpu.usage({name: trees.get(pid, set()) for name, pid in leaders.items()})
        now = self._clock()
        at = datetime.fromtimestamp(now, UTC)
        seen: dict[_ProcessKey, tuple[float, float]] = {}
        samples = []
        for name, leader in leaders.items():
            cpu, memory = 0.0, 0
            for pid in trees.get(leader, set()):
                measured = _measure(pid, now, previous, seen)
                if measured is not None:
                    cpu += measured[0]
                    memory += measured[1]
            util, gpu_memory = gpu.get(name, (None, None))
            samples.append(MetricSample(name, at, round(cpu, 4), memory, util, gpu_memory))
        with self._lock:
            self._previous[workload] = seen
        return samples

    def forget(self, workload: str) -> None:
        """Drop what was remembered about a workload that ended."""
        with self._lock:
            self._previous.pop(workload, None)


def _measure(
    pid: int,
    now: float,
    previous: Mapping[_ProcessKey, tuple[float, float]],
    seen: dict[_ProcessKey, tuple[float, float]],
) -> tuple[float, int] | None:
    """(cores in use, resident bytes) of one process, or None if it is gone."""
    try:
        process = psutil.Process(pid)
        with process.oneshot():
            created = process.create_time()
            times = process.cpu_times()
            rss = int(process.memory_info().rss)
    except psutil.Error:
        return None
    used = float(times.user + times.system)
    key = (pid, created)
    before = previous.get(key)
    seen[key] = (used, now)
    if before is not None and now > before[1]:
        rate = (used - before[0]) / (now - before[1])
    else:
        rate = used / max(now - created, 0.1)
    return max(rate, 0.0), rss


def process_trees(leaders: Iterable[int]) -> dict[int, set[int]]:
    """leader pid → the pids of its session and of every descendant of those (never ours)."""
    wanted = set(leaders)
    children: dict[int, list[int]] = defaultdict(list)
    trees: dict[int, set[int]] = {leader: set() for leader in wanted}
    me = os.getpid()
    for process in psutil.process_iter(["ppid"]):
        pid = process.pid
        if pid == me:
            continue
        children[process.info["ppid"] or 0].append(pid)
        with contextlib.suppress(OSError):
            session = os.getsid(pid)
            if session in wanted:
                trees[session].add(pid)
    for members in trees.values():
        stack = list(members)
        while stack:
            for child in children.get(stack.pop(), ()):
                if child not in members and child != me:
                    members.add(child)
                    stack.append(child)
    return trees
