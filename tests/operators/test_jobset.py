"""jobset: count × completions pods per type, index variables, parallelism, JobSet rendering."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from aichor.operators import jobset
from aichor.replicas import SuccessRule
from tests.operators.manifests import MAX_FIELDS, MAX_RESOURCES, WORKLOAD, context, spec

# Not in alphabetical order: the global job index must follow the manifest's order.
TWO_TYPES = {
    "worker-heavy": {"count": 2, "completions": 3, "parallelisms": 2},
    "aggregator": {"count": 1},
}


def test_every_type_job_and_completion_appears_exactly_once() -> None:
    plan = jobset.plan_replicas(spec("jobset", TWO_TYPES), context())
    seen = Counter(
        (r.env["REPLICATED_JOB_NAME"], r.env["JOB_INDEX"], r.env["JOB_COMPLETION_INDEX"])
        for r in plan.replicas
    )
    expected = [("worker-heavy", str(j), str(c)) for j in range(2) for c in range(3)]
    assert seen == Counter([*expected, ("aggregator", "0", "0")])
    assert [r.name for r in plan.replicas][:2] == [
        f"{WORKLOAD}-worker-heavy-0-0",
        f"{WORKLOAD}-worker-heavy-0-1",
    ]
    assert all(r.name == f"{r.job}-{r.env['JOB_COMPLETION_INDEX']}" for r in plan.replicas)
    assert plan.success is SuccessRule.ALL


def test_global_index_and_replica_counts_span_types_in_manifest_order() -> None:
    plan = jobset.plan_replicas(spec("jobset", TWO_TYPES), context())
    by_name = {r.name: r.env for r in plan.replicas}
    assert by_name[f"{WORKLOAD}-worker-heavy-1-2"]["JOB_GLOBAL_INDEX"] == "1"
    aggregator = by_name[f"{WORKLOAD}-aggregator-0-0"]
    assert aggregator["JOB_GLOBAL_INDEX"] == "2"
    assert aggregator["REPLICATED_JOB_REPLICAS"] == "1"
    assert by_name[f"{WORKLOAD}-worker-heavy-0-0"]["REPLICATED_JOB_REPLICAS"] == "2"
    assert {env["GLOBAL_REPLICAS"] for env in by_name.values()} == {"3"}
    assert {env["JOBSET_NAME"] for env in by_name.values()} == {WORKLOAD}


def test_parallelism_is_per_job() -> None:
    plan = jobset.plan_replicas(spec("jobset", TWO_TYPES), context())
    assert plan.parallelism == {
        f"{WORKLOAD}-worker-heavy-0": 2,
        f"{WORKLOAD}-worker-heavy-1": 2,
        f"{WORKLOAD}-aggregator-0": 1,
    }


@pytest.mark.parametrize(
    ("types", "fields"),
    [
        ({"worker": {}}, {}),
        (TWO_TYPES | {"gpu": {"count": 2, "resources": MAX_RESOURCES}}, MAX_FIELDS),
    ],
    ids=["min", "max"],
)
def test_render_matches_the_jobset_crd(
    assert_valid_resource: Callable[[Mapping[str, Any]], None],
    types: dict[str, Any],
    fields: dict[str, Any],
) -> None:
    resource = jobset.render_resource(spec("jobset", types, **fields), context())
    assert_valid_resource(resource)
    assert [job["name"] for job in resource["spec"]["replicatedJobs"]] == list(types)


def test_render_lays_out_indexed_jobs_with_downward_api_indices() -> None:
    resource = jobset.render_resource(
        spec("jobset", TWO_TYPES, restartPolicy={"backoffLimit": 4}), context()
    )
    assert resource["spec"]["failurePolicy"] == {"maxRestarts": 4}
    assert resource["spec"]["successPolicy"] == {"operator": "All"}
    assert resource["spec"]["network"]["subdomain"] == WORKLOAD
    heavy = resource["spec"]["replicatedJobs"][0]
    job = heavy["template"]["spec"]
    assert (heavy["replicas"], job["completions"], job["parallelism"]) == (2, 3, 2)
    assert (job["completionMode"], job["backoffLimit"]) == ("Indexed", 0)
    assert job["template"]["spec"]["restartPolicy"] == "Never"
    (container,) = job["template"]["spec"]["containers"]
    env = {var["name"]: var for var in container["env"]}
    assert env["REPLICATED_JOB_NAME"]["value"] == "worker-heavy"
    assert env["REPLICATED_JOB_REPLICAS"]["value"] == "2"
    assert env["GLOBAL_REPLICAS"]["value"] == "3"
    assert env["JOBSET_NAME"]["value"] == WORKLOAD
    paths = {
        name: env[name]["valueFrom"]["fieldRef"]["fieldPath"]
        for name in ("JOB_INDEX", "JOB_GLOBAL_INDEX")
    }
    assert paths == {
        "JOB_INDEX": "metadata.annotations['jobset.sigs.k8s.io/job-index']",
        "JOB_GLOBAL_INDEX": "metadata.annotations['jobset.sigs.k8s.io/job-global-index']",
    }
