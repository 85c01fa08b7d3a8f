"""Resource sampling of real process trees: a replica whose child (in a session of its own,
as Ray's raylet) burns a core and holds 150 MB is measured as such, an idle replica is not,
and without NVML (this machine has no GPU) the GPU fields are simply absent."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from aichor.engines.local.gpu_usage import GpuProbe
from aichor.engines.local.sampling import ProcessSampler, process_trees

BUSY_CHILD = (
    "import time\n"
    "block = bytearray(150 * 1024 * 1024)\n"
    "for i in range(0, len(block), 4096): block[i] = 1\n"
    "end = time.monotonic() + 30\n"
    "while time.monotonic() < end: pass\n"
)
PARENT = (
    "import subprocess, sys, time\n"
    f"subprocess.Popen([sys.executable, '-c', {BUSY_CHILD!r}], start_new_session=True)\n"
    "time.sleep(30)\n"
)


@pytest.fixture
def replicas() -> Iterator[dict[str, subprocess.Popen[bytes]]]:
    started = {
        "busy": subprocess.Popen([sys.executable, "-c", PARENT], start_new_session=True),
        "idle": subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(30)"], start_new_session=True
        ),
    }
    yield started
    for process in started.values():
        for pid in process_trees([process.pid])[process.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process.wait(10)


def test_busy_tree_counts_its_detached_child(replicas: dict[str, subprocess.Popen[bytes]]) -> None:
    leaders = {name: process.pid for name, process in replicas.items()}
    sampler = ProcessSampler()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # until the child has allocated its block
        if len(process_trees([leaders["busy"]])[leaders["busy"]]) == 2:
            samples = {s.replica: s for s in sampler.sample("w", leaders)}
            if samples["busy"].memory_bytes > 150 * 1024**2:
                break
        time.sleep(0.2)
    time.sleep(1.0)
    samples = {s.replica: s for s in sampler.sample("w", leaders)}
    assert samples["busy"].memory_bytes > 150 * 1024**2
    # A spinning loop gets at most a core, and much less on a machine busy with other work;
    # what the sample must show is that it is the busy one (the idle one sleeps).
    assert samples["busy"].cpu > 0.05
    assert samples["busy"].cpu > samples["idle"].cpu + 0.05
    assert samples["idle"].cpu < 0.2
    assert 0 < samples["idle"].memory_bytes < 100 * 1024**2
    assert samples["busy"].gpu_util is None and samples["busy"].gpu_memory_bytes is None


def test_without_nvml_there_is_no_gpu_reading() -> None:
    probe = GpuProbe()
    assert not probe.available  # no NVIDIA driver here: the code path is skipped cleanly
    assert probe.usage({"busy": {os.getpid()}}) == {}
