"""pytorch: Master/Worker names, rank variables only with a Master, PyTorchJob rendering."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from aichor.operators import pytorch
from aichor.replicas import ReplicaKind, Resources, SuccessRule
from tests.operators.loopback import LoopbackAddressing
from tests.operators.manifests import (
    BASE_ENV,
    MAX_FIELDS,
    MAX_RESOURCES,
    WORKLOAD,
    context,
    operator_env,
    spec,
)

MASTER_AND_THREE = {"Master": {"count": 1}, "Worker": {"count": 3}}


def test_master_and_three_workers_get_the_exact_upstream_variables() -> None:
    plan = pytorch.plan_replicas(spec("pytorch", MASTER_AND_THREE), context())
    master = f"{WORKLOAD}-master-0"
    expected_names = [master, *(f"{WORKLOAD}-worker-{i}" for i in range(3))]
    assert [r.name for r in plan.replicas] == expected_names
    for rank, replica in enumerate(plan.replicas):
        assert replica.env == {
            **BASE_ENV,
            "PYTHONUNBUFFERED": "1",
            "MASTER_ADDR": master,
            "MASTER_PORT": "23456",
            "WORLD_SIZE": "4",
            "RANK": str(rank),
            "PET_MASTER_ADDR": master,
            "PET_MASTER_PORT": "23456",
            "PET_NNODES": "4",
            "PET_NODE_RANK": str(rank),
            "PET_NPROC_PER_NODE": "auto",
        }
    assert plan.success is SuccessRule.MASTER


def test_replicas_run_the_command_as_tasks_in_their_own_job() -> None:
    plan = pytorch.plan_replicas(spec("pytorch", MASTER_AND_THREE), context())
    assert [(r.replica_type, r.index) for r in plan.replicas] == [
        ("Master", 0),
        ("Worker", 0),
        ("Worker", 1),
        ("Worker", 2),
    ]
    assert {r.kind for r in plan.replicas} == {ReplicaKind.TASK}
    assert {r.command for r in plan.replicas} == {"python3 -u main.py"}
    assert all(r.job == r.name for r in plan.replicas)


def test_without_master_there_are_no_rank_variables_and_all_workers_must_succeed() -> None:
    plan = pytorch.plan_replicas(spec("pytorch", {"Worker": {"count": 2}}), context())
    for replica in plan.replicas:
        assert operator_env(replica.env) == {"PET_NNODES": "2", "PET_NPROC_PER_NODE": "auto"}
    assert plan.success is SuccessRule.ALL


def test_base_env_cannot_shadow_operator_variables() -> None:
    ctx = context(base_env={**BASE_ENV, "RANK": "99", "PYTHONUNBUFFERED": "0"})
    plan = pytorch.plan_replicas(spec("pytorch", MASTER_AND_THREE), ctx)
    assert [r.env["RANK"] for r in plan.replicas] == ["0", "1", "2", "3"]
    assert {r.env["PYTHONUNBUFFERED"] for r in plan.replicas} == {"1"}


def test_resources_come_from_each_type() -> None:
    types = {"Master": {"resources": {"cpus": 2}}, "Worker": {"resources": MAX_RESOURCES}}
    master, worker = pytorch.plan_replicas(spec("pytorch", types), context()).replicas
    assert master.resources == Resources(cpus=2, memory_gib=4)
    assert worker.resources == Resources(
        cpus=1.5,
        memory_gib=4.5,
        shm_gib=8,
        gpus=2,
        gpu_product="Tesla-V100-SXM3-32GB",
        gpu_type="gpu",
        machine_name="gpu-node-7",
        rdma_devices=1,
    )


def test_loopback_master_port_comes_from_addressing() -> None:
    addressing = LoopbackAddressing(first_port=41000)
    plan = pytorch.plan_replicas(spec("pytorch", MASTER_AND_THREE), context(addressing))
    assert {r.env["MASTER_ADDR"] for r in plan.replicas} == {"127.0.0.1"}
    assert {r.env["MASTER_PORT"] for r in plan.replicas} == {"41000"}
    assert addressing.ports == {(f"{WORKLOAD}-master-0", "pytorch"): 41000}


@pytest.mark.parametrize(
    ("types", "fields"),
    [
        ({"Worker": {"count": 1}}, {}),
        (MASTER_AND_THREE, {}),
        ({"Master": {"resources": MAX_RESOURCES}, "Worker": {"count": 3}}, MAX_FIELDS),
    ],
    ids=["worker-only", "master-workers", "max"],
)
def test_render_matches_the_pytorchjob_crd(
    assert_valid_resource: Callable[[Mapping[str, Any]], None],
    types: dict[str, Any],
    fields: dict[str, Any],
) -> None:
    resource = pytorch.render_resource(spec("pytorch", types, **fields), context())
    assert_valid_resource(resource)
    assert (resource["apiVersion"], resource["kind"]) == ("kubeflow.org/v1", "PyTorchJob")
    assert resource["metadata"]["name"] == WORKLOAD
    assert set(resource["spec"]["pytorchReplicaSpecs"]) == set(types)


def test_render_names_the_container_and_port_as_the_training_operator_expects() -> None:
    resource = pytorch.render_resource(spec("pytorch", MASTER_AND_THREE), context())
    assert resource["spec"]["nprocPerNode"] == "auto"
    workers = resource["spec"]["pytorchReplicaSpecs"]["Worker"]
    assert workers["replicas"] == 3
    assert workers["restartPolicy"] == "Never"
    (container,) = workers["template"]["spec"]["containers"]
    assert container["name"] == "pytorch"
    assert container["ports"] == [{"name": "pytorchjob-port", "containerPort": 23456}]
    assert container["command"] == ["/bin/sh", "-c", "python3 -u main.py"]
    # The training operator injects ranks itself; the template carries only the base variables.
    names = [var["name"] for var in container["env"]]
    assert names == [*BASE_ENV, "PYTHONUNBUFFERED"]


def test_render_restarts_in_place_when_backoff_allows() -> None:
    resource = pytorch.render_resource(
        spec("pytorch", MASTER_AND_THREE, restartPolicy={"backoffLimit": 3}), context()
    )
    assert resource["spec"]["runPolicy"]["backoffLimit"] == 3
    replica_specs = resource["spec"]["pytorchReplicaSpecs"].values()
    assert {s["restartPolicy"] for s in replica_specs} == {"OnFailure"}
