"""The pytorch operator: Kubeflow's PyTorchJob (an optional Master and n Workers).

As upstream, rank variables (`MASTER_ADDR`, `MASTER_PORT`, `WORLD_SIZE`, `RANK` and torchrun's
`PET_MASTER_*`/`PET_NODE_RANK`) exist only when a Master does; `PET_NNODES` and
`PET_NPROC_PER_NODE=auto` are always set. Success is the Master's, or every Worker's without one.
"""

from __future__ import annotations

from typing import Any

from aichor.manifest.schema import PytorchSpec, Spec
from aichor.operators import kubeflow_job
from aichor.operators.base import RunContext, expect_spec
from aichor.operators.kubeflow_job import MASTER, Framework, OperatorVars
from aichor.replicas import ReplicaPlan, SuccessRule

FRAMEWORK = Framework(
    kind="PyTorchJob",
    replica_specs_key="pytorchReplicaSpecs",
    container="pytorch",
    port_name="pytorchjob-port",
    default_port=23456,
)
NPROC_PER_NODE = "auto"
"""Not an integer, so WORLD_SIZE is the number of replicas (the operator counts it as 1)."""


def plan_replicas(spec: Spec, ctx: RunContext) -> ReplicaPlan:
    """Master then Workers, ranked 0…n-1 when a Master exists."""
    pytorch = expect_spec(spec, PytorchSpec)
    types = kubeflow_job.groups(pytorch.types.master, pytorch.types.worker)
    has_master = MASTER in types
    operator_vars = _ranked_vars(ctx, types) if has_master else _unranked_vars(types)
    replicas = kubeflow_job.plan(pytorch, ctx, types, operator_vars)
    success = SuccessRule.MASTER if has_master else SuccessRule.ALL
    return ReplicaPlan(ctx.workload_name, replicas, success)


def render_resource(spec: Spec, ctx: RunContext) -> dict[str, Any]:
    """The PyTorchJob; the training operator injects the rank variables into its pods."""
    pytorch = expect_spec(spec, PytorchSpec)
    types = kubeflow_job.groups(pytorch.types.master, pytorch.types.worker)
    extra = {"nprocPerNode": NPROC_PER_NODE}
    return kubeflow_job.render(pytorch, ctx, FRAMEWORK, types, extra)


def _ranked_vars(ctx: RunContext, types: kubeflow_job.Types) -> OperatorVars:
    master = kubeflow_job.replica_name(ctx, MASTER, 0)
    address = ctx.addressing.host(master)
    port = str(ctx.addressing.port(master, "pytorch", FRAMEWORK.default_port))
    total = str(kubeflow_job.total_replicas(types))

    def operator_vars(replica_type: str, index: int) -> dict[str, str]:
        rank = str(kubeflow_job.rank(replica_type, index, masters=1))
        return {
            "MASTER_ADDR": address,
            "MASTER_PORT": port,
            "WORLD_SIZE": total,
            "RANK": rank,
            "PET_MASTER_ADDR": address,
            "PET_MASTER_PORT": port,
            "PET_NNODES": total,
            "PET_NODE_RANK": rank,
            "PET_NPROC_PER_NODE": NPROC_PER_NODE,
        }

    return operator_vars


def _unranked_vars(types: kubeflow_job.Types) -> OperatorVars:
    total = str(kubeflow_job.total_replicas(types))

    def operator_vars(replica_type: str, index: int) -> dict[str, str]:
        return {"PET_NNODES": total, "PET_NPROC_PER_NODE": NPROC_PER_NODE}

    return operator_vars
