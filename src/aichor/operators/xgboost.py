"""The xgboost operator: Kubeflow's XGBoostJob (one Master, n Workers).

Every replica gets `MASTER_ADDR`, `MASTER_PORT`, `WORLD_SIZE` and `RANK`; with more than one
replica also `WORKER_PORT` and `WORKER_ADDRS` (the workers' hosts, comma-separated), as
upstream. Success is the Master's.
"""

from __future__ import annotations

from typing import Any

from aichor.manifest.schema import Spec, XGBoostSpec
from aichor.operators import kubeflow_job
from aichor.operators.base import RunContext, expect_spec
from aichor.operators.kubeflow_job import MASTER, WORKER, Framework, OperatorVars
from aichor.replicas import ReplicaPlan, SuccessRule

FRAMEWORK = Framework(
    kind="XGBoostJob",
    replica_specs_key="xgbReplicaSpecs",
    container="xgboost",
    port_name="xgboostjob-port",
    default_port=9999,
)


def plan_replicas(spec: Spec, ctx: RunContext) -> ReplicaPlan:
    """Master (rank 0) then Workers (rank i + 1); success when the Master succeeds."""
    xgboost = expect_spec(spec, XGBoostSpec)
    types = kubeflow_job.groups(xgboost.types.master, xgboost.types.worker)
    replicas = kubeflow_job.plan(xgboost, ctx, types, _operator_vars(ctx, types))
    return ReplicaPlan(ctx.workload_name, replicas, SuccessRule.MASTER)


def render_resource(spec: Spec, ctx: RunContext) -> dict[str, Any]:
    """The XGBoostJob; the training operator injects the tracker variables into its pods."""
    xgboost = expect_spec(spec, XGBoostSpec)
    types = kubeflow_job.groups(xgboost.types.master, xgboost.types.worker)
    return kubeflow_job.render(xgboost, ctx, FRAMEWORK, types, {})


def _operator_vars(ctx: RunContext, types: kubeflow_job.Types) -> OperatorVars:
    master = kubeflow_job.replica_name(ctx, MASTER, 0)
    base = {
        "MASTER_ADDR": ctx.addressing.host(master),
        "MASTER_PORT": str(ctx.addressing.port(master, "xgboost", FRAMEWORK.default_port)),
        "WORLD_SIZE": str(kubeflow_job.total_replicas(types)),
    }
    workers = [kubeflow_job.replica_name(ctx, WORKER, i) for i in range(_count(types, WORKER))]
    # One port per worker: equal (9999) with hostnames, distinct on loopback. Each worker's
    # WORKER_PORT is its own port; the Master sees worker 0's, as all replicas do upstream.
    ports = [str(ctx.addressing.port(w, "xgboost", FRAMEWORK.default_port)) for w in workers]
    addrs = ",".join(ctx.addressing.host(w) for w in workers)
    multi = kubeflow_job.total_replicas(types) > 1 and bool(workers)

    def operator_vars(replica_type: str, index: int) -> dict[str, str]:
        env = {**base, "RANK": str(kubeflow_job.rank(replica_type, index, masters=1))}
        if multi:
            env["WORKER_PORT"] = ports[index if replica_type == WORKER else 0]
            env["WORKER_ADDRS"] = addrs
        return env

    return operator_vars


def _count(types: kubeflow_job.Types, replica_type: str) -> int:
    group = types.get(replica_type)
    return group.count if group else 0
