"""kuberay: head and pool nodes with their custom resources, the driver, RayJob rendering."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from aichor.operators import kuberay
from aichor.replicas import RayNode, ReplicaKind, Resources, SuccessRule
from tests.operators.loopback import LoopbackAddressing
from tests.operators.manifests import (
    MAX_FIELDS,
    MAX_RESOURCES,
    WORKLOAD,
    context,
    operator_env,
    spec,
)

CLUSTER = {
    "Head": {"resources": {"cpus": 2, "ramRatio": 4}},
    "Workers": [
        {"name": "cpu-workers", "count": 2, "resources": {"cpus": 4}},
        {"name": "gpu-workers", "count": 1, "resources": MAX_RESOURCES},
    ],
}


def test_nodes_carry_the_head_and_pool_custom_resources() -> None:
    plan = kuberay.plan_replicas(spec("kuberay", CLUSTER), context())
    nodes = {r.name: r for r in plan.replicas if r.ray is not None}
    assert list(nodes) == [
        f"{WORKLOAD}-head",
        f"{WORKLOAD}-cpu-workers-0",
        f"{WORKLOAD}-cpu-workers-1",
        f"{WORKLOAD}-gpu-workers-0",
    ]
    head = nodes[f"{WORKLOAD}-head"]
    assert head.kind is ReplicaKind.RAY_HEAD
    assert head.ray == RayNode(
        gcs_host=f"{WORKLOAD}-head",
        gcs_port=6379,
        dashboard_port=8265,
        num_cpus=2,
        num_gpus=0,
        memory_bytes=8 * 1024**3,
        custom_resources={"head": 100000},
    )
    gpu = nodes[f"{WORKLOAD}-gpu-workers-0"]
    assert gpu.kind is ReplicaKind.RAY_WORKER
    assert gpu.ray is not None
    assert (gpu.ray.custom_resources, gpu.ray.num_gpus) == ({"gpu-workers": 100000}, 2)
    assert gpu.ray.memory_bytes == int(4.5 * 1024**3)
    assert {r.command for r in nodes.values()} == {""}


def test_the_driver_runs_the_command_against_the_gcs_and_decides_success() -> None:
    plan = kuberay.plan_replicas(spec("kuberay", CLUSTER), context())
    driver = plan.replicas[-1]
    assert (driver.name, driver.replica_type, driver.kind) == (
        f"{WORKLOAD}-driver",
        "driver",
        ReplicaKind.RAY_DRIVER,
    )
    assert driver.command == "python3 -u main.py"
    address = f"{WORKLOAD}-head:6379"
    assert operator_env(driver.env) == {"RAY_ADDRESS": address, "RAY_SERVER": address}
    assert driver.resources == Resources(cpus=0, memory_gib=0)
    assert plan.success is SuccessRule.DRIVER
    assert plan.peak_resources().cpus == 2 + 2 * 4 + 1.5


def test_loopback_gcs_and_dashboard_get_distinct_ports() -> None:
    addressing = LoopbackAddressing(first_port=44000)
    plan = kuberay.plan_replicas(spec("kuberay", CLUSTER), context(addressing))
    head_node = plan.replicas[0].ray
    assert head_node is not None
    assert (head_node.gcs_host, head_node.gcs_port, head_node.dashboard_port) == (
        "127.0.0.1",
        44000,
        44001,
    )
    assert {r.ray.gcs_port for r in plan.replicas if r.ray} == {44000}
    assert plan.replicas[-1].env["RAY_ADDRESS"] == "127.0.0.1:44000"


@pytest.mark.parametrize(
    ("types", "fields"),
    [({"Head": {}, "Workers": [{"name": "w"}]}, {}), (CLUSTER, MAX_FIELDS)],
    ids=["min", "max"],
)
def test_render_matches_the_rayjob_crd(
    assert_valid_resource: Callable[[Mapping[str, Any]], None],
    types: dict[str, Any],
    fields: dict[str, Any],
) -> None:
    resource = kuberay.render_resource(spec("kuberay", types, **fields), context())
    assert_valid_resource(resource)
    assert (resource["apiVersion"], resource["kind"]) == ("ray.io/v1", "RayJob")


def _start_resources(params: Mapping[str, str]) -> Any:
    """Undo KubeRay's classic quoting: strip the outer quotes, unescape, parse the JSON."""
    quoted = params["resources"]
    assert quoted.startswith('"') and quoted.endswith('"')
    return json.loads(quoted[1:-1].replace('\\"', '"'))


def test_render_declares_the_custom_resources_and_runs_the_command_as_the_job() -> None:
    resource = kuberay.render_resource(spec("kuberay", CLUSTER), context())
    body = resource["spec"]
    assert body["entrypoint"] == "python3 -u main.py"
    assert (body["submissionMode"], body["shutdownAfterJobFinishes"]) == ("K8sJobMode", True)
    head = body["rayClusterSpec"]["headGroupSpec"]
    assert _start_resources(head["rayStartParams"]) == {"head": 100000}
    (head_container,) = head["template"]["spec"]["containers"]
    assert "command" not in head_container  # KubeRay writes the `ray start` command
    head_env = {var["name"]: var["value"] for var in head_container["env"]}
    assert head_env["RAY_SERVER"] == "127.0.0.1:6379"
    groups = body["rayClusterSpec"]["workerGroupSpecs"]
    assert [
        (g["groupName"], g["replicas"], g["minReplicas"], g["maxReplicas"]) for g in groups
    ] == [
        ("cpu-workers", 2, 2, 2),
        ("gpu-workers", 1, 1, 1),
    ]
    assert [_start_resources(g["rayStartParams"]) for g in groups] == [
        {"cpu-workers": 100000},
        {"gpu-workers": 100000},
    ]
