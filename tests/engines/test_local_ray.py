"""Ray clusters on the local engine: head + worker pool started in parallel, driver, teardown.

The Ray environment is built once with uv into .cache/test-envs/ray and reused; the slow
tests are skipped (with the reason) only when it cannot be built.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from aichor.engines.base import ImageRef, RunPolicy, Workload
from aichor.engines.local import LocalEngine
from aichor.engines.local.ports import LoopbackAddressing
from aichor.errors import InvalidInput
from aichor.lifecycle import ExperimentStatus, ReplicaStatus
from aichor.replicas import (
    RayNode,
    ReplicaKind,
    ReplicaPlan,
    ReplicaSpec,
    Resources,
    SuccessRule,
)
from tests.engines.plans import IMAGE, assert_no_process_left, unique

ROOT = Path(__file__).resolve().parents[2]
RAY_ENV = ROOT / ".cache" / "test-envs" / "ray"
_DRIVER = """python -c '
import json, ray
ray.init()
nodes = [n for n in ray.nodes() if n["Alive"]]
print("nodes", len(nodes), flush=True)
custom = sorted(k for n in nodes for k in n["Resources"] if k in ("head", "pool"))
print("custom", json.dumps(custom), flush=True)
@ray.remote(resources={"pool": 1})
def where():
    return "ran on the pool"
print(ray.get(where.remote()), flush=True)
'"""


@pytest.fixture(scope="session")
def ray_env() -> Path:
    if (RAY_ENV / "bin" / "ray").exists():
        return RAY_ENV
    uv = Path(sys.executable).parent / "uv"
    env = {
        **os.environ,
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_PYTHON": shutil.which("python3") or sys.executable,
    }
    try:
        subprocess.run([uv, "venv", RAY_ENV], env=env, check=True, capture_output=True)
        python = str(RAY_ENV / "bin" / "python")
        install = [str(uv), "pip", "install", "--python", python, "ray[default]"]
        subprocess.run(install, env=env, check=True, capture_output=True, timeout=900)
    except (OSError, subprocess.SubprocessError) as error:
        shutil.rmtree(RAY_ENV, ignore_errors=True)
        pytest.skip(f"cannot build the Ray test environment with uv: {error}")
    return RAY_ENV


def _cluster(name: str, addressing: LoopbackAddressing, command: str) -> ReplicaPlan:
    head_name = f"{name}-head"
    gcs = addressing.port(head_name, "gcs", 6379)
    dashboard = addressing.port(head_name, "dashboard", 8265)
    address = f"127.0.0.1:{gcs}"

    def node(replica: str, pool: str, kind: ReplicaKind) -> ReplicaSpec:
        node_cfg = RayNode("127.0.0.1", gcs, dashboard, 1, 0, 512 * 1024**2, {pool: 100000})
        return ReplicaSpec(
            name=replica,
            replica_type=pool,
            index=0,
            kind=kind,
            command="",
            env={"RAY_ADDRESS": address},
            resources=Resources(cpus=1, memory_gib=0.5),
            job=replica,
            ray=node_cfg,
        )

    driver = ReplicaSpec(
        name=f"{name}-driver",
        replica_type="driver",
        index=0,
        kind=ReplicaKind.RAY_DRIVER,
        command=command,
        env={"RAY_ADDRESS": address},
        resources=Resources(cpus=0, memory_gib=0),
        job=f"{name}-driver",
    )
    replicas = (
        node(head_name, "head", ReplicaKind.RAY_HEAD),
        node(f"{name}-pool-0", "pool", ReplicaKind.RAY_WORKER),
        driver,
    )
    return ReplicaPlan(name, replicas, SuccessRule.DRIVER)


def _ray_processes(plan: ReplicaPlan) -> list[psutil.Process]:
    """Processes whose command line names this cluster's GCS port (ray start, raylet, agents)."""
    head = plan.replicas[0].ray
    assert head is not None
    gcs = f":{head.gcs_port}"
    found = []
    for process in psutil.process_iter(["cmdline"]):
        try:
            cmdline = " ".join(process.info["cmdline"] or [])
            if (
                "ray" in cmdline
                and (gcs in cmdline or f"--port={head.gcs_port}" in cmdline)
                and process.status() != psutil.STATUS_ZOMBIE
            ):
                found.append(process)
        except psutil.Error:
            continue
    return found


@pytest.mark.slow
def test_head_and_worker_pool_run_the_driver(engine: LocalEngine, ray_env: Path) -> None:
    name = unique("ray")
    plan = _cluster(name, engine.new_addressing(), _DRIVER)
    image = ImageRef(ref="ray-test", root=None, python_env=ray_env)
    started = time.monotonic()
    engine.submit(Workload(plan, image, RunPolicy(grace_period_seconds=5)))
    outcome = engine.wait(name, timeout=300)
    took = time.monotonic() - started
    driver_lines = [line.text for line in engine.logs(name, f"{name}-driver")]
    assert outcome.status == ExperimentStatus.SUCCEEDED, engine.logs(name)[-40:]
    assert "nodes 2" in driver_lines
    assert 'custom ["head", "pool"]' in driver_lines
    assert "ran on the pool" in driver_lines
    states = engine.observe(name)
    assert {s.status for s in states} == {ReplicaStatus.SUCCEEDED}
    assert {s.exit_code for s in states} == {0}
    assert_no_process_left(name, timeout=30)
    assert not _ray_processes(plan), "a Ray process of the experiment survived"
    print(f"ray head + 1 worker, submit to outcome: {took:.1f}s")


@pytest.mark.slow
def test_driver_failure_fails_the_experiment_and_stops_the_cluster(
    engine: LocalEngine, ray_env: Path
) -> None:
    name = unique("rayfail")
    plan = _cluster(name, engine.new_addressing(), "python -c 'import ray; ray.init(); exit(7)'")
    image = ImageRef(ref="ray-test", root=None, python_env=ray_env)
    engine.submit(Workload(plan, image, RunPolicy(grace_period_seconds=5)))
    outcome = engine.wait(name, timeout=300)
    assert outcome.status == ExperimentStatus.FAILED
    assert outcome.failed_replica == f"{name}-driver"
    assert outcome.exit_code == 7
    assert_no_process_left(name, timeout=30)
    assert not _ray_processes(plan), "a Ray process of the experiment survived"


def test_kuberay_without_ray_in_the_environment_is_refused(engine: LocalEngine) -> None:
    name = unique("noray")
    plan = _cluster(name, engine.new_addressing(), "true")
    bare = ImageRef(ref="bare", root=None, python_env=Path("/nonexistent-env"))
    with pytest.raises(InvalidInput, match=r"kuberay needs Ray in the experiment environment"):
        engine.submit(Workload(plan, bare))
    assert IMAGE.python_env is not None


@pytest.mark.slow
def test_two_clusters_at_once_stay_apart(engine: LocalEngine, ray_env: Path) -> None:
    image = ImageRef(ref="ray-test", root=None, python_env=ray_env)
    names = [unique("rayone"), unique("raytwo")]
    for name in names:
        plan = _cluster(name, engine.new_addressing(), _DRIVER)
        engine.submit(Workload(plan, image, RunPolicy(grace_period_seconds=5)))
    for name in names:
        outcome = engine.wait(name, timeout=600)
        assert outcome.status == ExperimentStatus.SUCCEEDED, engine.logs(name)[-40:]
        # Each driver sees its own two nodes, not the other cluster's.
        assert "nodes 2" in [line.text for line in engine.logs(name, f"{name}-driver")]
        assert_no_process_left(name, timeout=30)
