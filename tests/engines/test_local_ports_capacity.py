"""Loopback ports (distinct, reserved, released) and the up-front capacity check."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from aichor.engines.local import LocalEngine
from aichor.engines.local.capacity import Machine, check_plan
from aichor.engines.local.ports import LoopbackAddressing
from aichor.errors import Conflict
from aichor.lifecycle import ExperimentStatus
from aichor.replicas import ReplicaPlan, Resources, SuccessRule
from tests.engines.plans import assert_no_process_left, py, task, unique, workload

_SERVE = """
import os, socket, sys, time, pathlib
port = int(os.environ["PORT"])
with socket.socket() as server:
    server.bind(("127.0.0.1", port))
    server.listen()
    pathlib.Path(sys.argv[1], os.environ["NAME"]).write_text(str(port))
    while len(list(pathlib.Path(sys.argv[1]).iterdir())) < 4:
        time.sleep(0.02)
"""


def test_ports_are_stable_per_purpose_and_distinct() -> None:
    addressing = LoopbackAddressing()
    try:
        assert addressing.host("any") == "127.0.0.1"
        first = addressing.port("r0", "gcs", 6379)
        assert addressing.port("r0", "gcs", 6379) == first
        others = {addressing.port(f"r{i}", p, 6379) for i in range(5) for p in ("a", "b")}
        assert first not in others and len(others) == 10
        low, high = addressing.port_range("r0", "workers", 50)
        assert high - low == 49 and not set(range(low, high + 1)) & (others | {first})
    finally:
        addressing.release()


def test_two_experiments_at_once_get_disjoint_ports(engine: LocalEngine, tmp_path: Path) -> None:
    bound = tmp_path / "bound"
    bound.mkdir()
    names = []
    for experiment in ("one", "two"):
        addressing = engine.new_addressing()
        name = unique(experiment)
        names.append(name)
        replicas = []
        for i in range(2):
            replica = f"{name}-r{i}"
            port = addressing.port(replica, "serve", 23456)  # same default everywhere
            env = {"PORT": str(port), "NAME": replica}
            replicas.append(task(replica, f"{py(_SERVE)} {bound}", env=env))
        engine.submit(workload(name, *replicas))
    for name in names:
        assert engine.wait(name, timeout=60).status == ExperimentStatus.SUCCEEDED
        assert_no_process_left(name)
    ports = [int(path.read_text()) for path in bound.iterdir()]
    assert len(ports) == 4 and len(set(ports)) == 4


def test_capacity_rejects_with_the_numbers(engine: LocalEngine) -> None:
    cores = len(os.sched_getaffinity(0))
    big = Resources(cpus=cores + 2, memory_gib=1)
    plan = workload(unique("big"), task("r", "true", resources=big)).plan
    with pytest.raises(
        Conflict, match=re.escape(f"needs {cores + 2} CPUs, this machine has {cores}")
    ):
        engine.check_capacity(plan)
    with pytest.raises(Conflict):
        engine.submit(workload(plan.workload_name, task("r", "true", resources=big)))
    with pytest.raises(Exception, match="no workload"):
        engine.observe(plan.workload_name)  # nothing started


def test_capacity_counts_only_what_runs_at_once() -> None:
    machine = Machine(cores=(0, 1), memory_gib=8, gpus=())
    one_cpu = Resources(cpus=1, memory_gib=1)
    replicas = tuple(task(f"p{i}", "true", job="job", resources=one_cpu) for i in range(6))
    limited = ReplicaPlan("limited", replicas, SuccessRule.ALL, {"job": 2})
    assert limited.peak_resources().cpus == 2
    notes = check_plan(limited, machine)
    assert any("memory limits are not enforced" in note for note in notes)
    unlimited = ReplicaPlan("unlimited", replicas, SuccessRule.ALL)
    with pytest.raises(Conflict, match="needs 6 CPUs, this machine has 2"):
        check_plan(unlimited, machine)
    gpu = Resources(cpus=1, memory_gib=100, gpus=1, gpu_product="A100", shm_gib=2)
    greedy = ReplicaPlan("greedy", (task("g", "true", resources=gpu),), SuccessRule.ALL)
    with pytest.raises(
        Conflict, match=r"needs 100 GiB of memory, this machine has 8 GiB.*needs 1 GPUs"
    ):
        check_plan(greedy, machine)


def test_unenforced_requests_are_noted_in_the_run_log(engine: LocalEngine) -> None:
    name = unique("notes")
    odd = Resources(cpus=0.1, memory_gib=0.05, shm_gib=1, machine_name="big-box", rdma_devices=1)
    engine.submit(workload(name, task("r", "true", resources=odd)))
    engine.wait(name, timeout=60)
    notes = " | ".join(line.text for line in engine.logs(name, "aichor"))
    for expected in ("memory limits", "shmSizeGB", "machineName big-box", "rdma"):
        assert expected in notes


def test_replicas_get_disjoint_cores_and_no_gpus(engine: LocalEngine, tmp_path: Path) -> None:
    name = unique("affinity")
    probe = (
        "import os, time; "
        "print(sorted(os.sched_getaffinity(0)), repr(os.environ['CUDA_VISIBLE_DEVICES'])); "
        "time.sleep(0.5)"  # both hold their cores at the same time
    )
    engine.submit(workload(name, task("a", py(probe)), task("b", py(probe))))
    engine.wait(name, timeout=60)
    seen = [engine.logs(name, r)[0].text for r in ("a", "b")]
    assert all(line.endswith("''") for line in seen)  # no GPU requested: none visible
    if len(os.sched_getaffinity(0)) >= 2:
        cores = [line.split("]")[0] for line in seen]
        assert cores[0] != cores[1]
