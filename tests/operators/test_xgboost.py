"""xgboost: tracker variables, WORKER_* only with more than one replica, XGBoostJob rendering."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from aichor.operators import xgboost
from aichor.replicas import SuccessRule
from tests.operators.loopback import LoopbackAddressing
from tests.operators.manifests import (
    MAX_FIELDS,
    MAX_RESOURCES,
    WORKLOAD,
    context,
    operator_env,
    spec,
)

MASTER_AND_TWO = {"Master": {"count": 1}, "Worker": {"count": 2}}


def test_master_and_two_workers_get_the_exact_upstream_variables() -> None:
    plan = xgboost.plan_replicas(spec("xgboost", MASTER_AND_TWO), context())
    workers = f"{WORKLOAD}-worker-0,{WORKLOAD}-worker-1"
    assert [operator_env(r.env) for r in plan.replicas] == [
        {
            "MASTER_ADDR": f"{WORKLOAD}-master-0",
            "MASTER_PORT": "9999",
            "WORLD_SIZE": "3",
            "RANK": str(rank),
            "WORKER_PORT": "9999",
            "WORKER_ADDRS": workers,
        }
        for rank in range(3)
    ]
    assert plan.success is SuccessRule.MASTER


def test_a_lone_master_gets_no_worker_variables() -> None:
    (master,) = xgboost.plan_replicas(spec("xgboost", {"Master": {}}), context()).replicas
    assert master.name == f"{WORKLOAD}-master-0"
    assert operator_env(master.env) == {
        "MASTER_ADDR": f"{WORKLOAD}-master-0",
        "MASTER_PORT": "9999",
        "WORLD_SIZE": "1",
        "RANK": "0",
    }


def test_loopback_gives_every_replica_its_own_port() -> None:
    addressing = LoopbackAddressing(first_port=42000)
    plan = xgboost.plan_replicas(spec("xgboost", MASTER_AND_TWO), context(addressing))
    master, worker0, worker1 = plan.replicas
    assert {r.env["WORKER_ADDRS"] for r in plan.replicas} == {"127.0.0.1,127.0.0.1"}
    assert {r.env["MASTER_PORT"] for r in plan.replicas} == {"42000"}
    # Each worker listens on its own port; the master sees worker 0's, as upstream all see one.
    assert [worker0.env["WORKER_PORT"], worker1.env["WORKER_PORT"]] == ["42001", "42002"]
    assert master.env["WORKER_PORT"] == "42001"
    assert len(set(addressing.ports.values())) == 3


@pytest.mark.parametrize(
    ("types", "fields"),
    [
        ({"Master": {}}, {}),
        ({"Master": {"resources": MAX_RESOURCES}, "Worker": {"count": 4}}, MAX_FIELDS),
    ],
    ids=["min", "max"],
)
def test_render_matches_the_xgboostjob_crd(
    assert_valid_resource: Callable[[Mapping[str, Any]], None],
    types: dict[str, Any],
    fields: dict[str, Any],
) -> None:
    resource = xgboost.render_resource(spec("xgboost", types, **fields), context())
    assert_valid_resource(resource)
    assert (resource["apiVersion"], resource["kind"]) == ("kubeflow.org/v1", "XGBoostJob")
    replica_specs = resource["spec"]["xgbReplicaSpecs"]
    assert set(replica_specs) == set(types)
    for replica_spec in replica_specs.values():
        (container,) = replica_spec["template"]["spec"]["containers"]
        assert container["name"] == "xgboost"
        assert container["ports"] == [{"name": "xgboostjob-port", "containerPort": 9999}]
