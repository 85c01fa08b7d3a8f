"""jax: AIchor's JobSet-based runtime; process ids, coordinator address, JobSet rendering."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from aichor.operators import jax
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

COORDINATOR = f"{WORKLOAD}-worker-0-0"


def test_processes_are_numbered_and_find_the_coordinator() -> None:
    plan = jax.plan_replicas(spec("jax", {"Worker": {"count": 3}}), context())
    assert [r.name for r in plan.replicas] == [f"{WORKLOAD}-worker-{i}-0" for i in range(3)]
    assert [operator_env(r.env) for r in plan.replicas] == [
        {
            "JOB_COMPLETION_INDEX": "0",
            "JAXOPERATOR_COORDINATOR_ADDRESS": f"{COORDINATOR}:1234",
            "JAXOPERATOR_COORDINATOR_HOST": COORDINATOR,
            "JAXOPERATOR_NUM_PROCESSES": "3",
            "JAXOPERATOR_PROCESS_ID": str(i),
            "COORDINATOR_ADDRESS": COORDINATOR,
            "COORDINATOR_PORT": "1234",
            "NUM_PROCESSES": "3",
            "PROCESS_ID": str(i),
        }
        for i in range(3)
    ]
    assert plan.success is SuccessRule.ALL
    assert [r.job for r in plan.replicas] == [f"{WORKLOAD}-worker-{i}" for i in range(3)]


def test_loopback_coordinator_address_carries_the_allocated_port() -> None:
    addressing = LoopbackAddressing(first_port=43000)
    plan = jax.plan_replicas(spec("jax", {"Worker": {"count": 2}}), context(addressing))
    assert {r.env["JAXOPERATOR_COORDINATOR_ADDRESS"] for r in plan.replicas} == {"127.0.0.1:43000"}
    assert {r.env["COORDINATOR_PORT"] for r in plan.replicas} == {"43000"}
    assert addressing.ports == {(COORDINATOR, "jax"): 43000}


@pytest.mark.parametrize(
    ("types", "fields"),
    [({"Worker": {}}, {}), ({"Worker": {"count": 4, "resources": MAX_RESOURCES}}, MAX_FIELDS)],
    ids=["min", "max"],
)
def test_render_matches_the_jobset_crd(
    assert_valid_resource: Callable[[Mapping[str, Any]], None],
    types: dict[str, Any],
    fields: dict[str, Any],
) -> None:
    resource = jax.render_resource(spec("jax", types, **fields), context())
    assert_valid_resource(resource)
    assert (resource["apiVersion"], resource["kind"]) == ("jobset.x-k8s.io/v1alpha2", "JobSet")
    (worker,) = resource["spec"]["replicatedJobs"]
    assert (worker["name"], worker["replicas"]) == ("worker", types["Worker"].get("count", 1))


def test_render_points_every_process_at_pod_zero_and_reads_its_id_from_the_job_index() -> None:
    resource = jax.render_resource(spec("jax", {"Worker": {"count": 2}}), context())
    assert resource["spec"]["coordinator"] == {
        "replicatedJob": "worker",
        "jobIndex": 0,
        "podIndex": 0,
    }
    (worker,) = resource["spec"]["replicatedJobs"]
    (container,) = worker["template"]["spec"]["template"]["spec"]["containers"]
    env = {var["name"]: var for var in container["env"]}
    fqdn = f"{COORDINATOR}.{WORKLOAD}"
    assert env["JAXOPERATOR_COORDINATOR_ADDRESS"]["value"] == f"{fqdn}:1234"
    assert env["COORDINATOR_ADDRESS"]["value"] == fqdn
    job_index = "metadata.annotations['jobset.sigs.k8s.io/job-index']"
    for name in ("JAXOPERATOR_PROCESS_ID", "PROCESS_ID"):
        assert env[name]["valueFrom"]["fieldRef"]["fieldPath"] == job_index
    assert container["name"] == "jax"
    assert container["ports"] == [{"name": "jax-coordinator", "containerPort": 1234}]
