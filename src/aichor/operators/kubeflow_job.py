"""The Master/Worker layout of Kubeflow Training Operator v1 jobs, shared by pytorch and xgboost.

Both name replicas `<job>-<type lower>-<index>`, rank the Master 0 and Worker i as i + 1, and
render the same `<kind>ReplicaSpecs` + `runPolicy` shape. Each operator module supplies its own
variables and its framework's names (container, port name, default port).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aichor.manifest.schema import ReplicaGroup, Spec
from aichor.operators.base import RunContext
from aichor.operators.deadline import deadline_seconds
from aichor.operators.environment import replica_env
from aichor.operators.pod_template import (
    Container,
    env_list,
    object_metadata,
    pod_template,
    shell_command,
)
from aichor.operators.resources import replica_resources
from aichor.replicas import ReplicaKind, ReplicaSpec

MASTER = "Master"
WORKER = "Worker"

Types = Mapping[str, ReplicaGroup]
"""Replica type (`Master`, `Worker`) → its manifest group, Master first."""

OperatorVars = Callable[[str, int], Mapping[str, str]]
"""(replica type, index) → the variables the Kubeflow operator injects into that replica."""


@dataclass(frozen=True)
class Framework:
    """What differs between Kubeflow job kinds in the rendered resource."""

    kind: str
    replica_specs_key: str
    container: str
    port_name: str
    default_port: int


def replica_name(ctx: RunContext, replica_type: str, index: int) -> str:
    """`<workload>-master-0`, `<workload>-worker-3`: the pod and its headless service."""
    return f"{ctx.workload_name}-{replica_type.lower()}-{index}"


def groups(master: ReplicaGroup | None, worker: ReplicaGroup | None) -> dict[str, ReplicaGroup]:
    """The replica types present, Master first (rank order)."""
    present = {MASTER: master, WORKER: worker}
    return {rtype: group for rtype, group in present.items() if group is not None}


def total_replicas(types: Mapping[str, ReplicaGroup]) -> int:
    return sum(group.count for group in types.values())


def rank(replica_type: str, index: int, masters: int) -> int:
    """Master 0; Worker i is i + (number of Masters), as the operator computes it."""
    return index if replica_type == MASTER else index + masters


def plan(
    spec: Spec, ctx: RunContext, types: Mapping[str, ReplicaGroup], operator_vars: OperatorVars
) -> tuple[ReplicaSpec, ...]:
    """One TASK replica per (type, index), each running the command with its variables."""
    return tuple(
        ReplicaSpec(
            name=(name := replica_name(ctx, rtype, index)),
            replica_type=rtype,
            index=index,
            kind=ReplicaKind.TASK,
            command=spec.command,
            env=replica_env(ctx, operator_vars(rtype, index)),
            resources=replica_resources(group.resources),
            job=name,
        )
        for rtype, group in types.items()
        for index in range(group.count)
    )


def render(
    spec: Spec,
    ctx: RunContext,
    framework: Framework,
    types: Mapping[str, ReplicaGroup],
    extra_spec: Mapping[str, Any],
) -> dict[str, Any]:
    """The `kubeflow.org/v1` job; the operator injects ranks and addresses into the pods itself."""
    # Never: a failed pod fails the job at once; OnFailure: restarted in place, counted
    # against runPolicy.backoffLimit. That is `restartPolicy.backoffLimit` on every engine.
    restart = "OnFailure" if spec.restart_policy.backoff_limit else "Never"
    replica_specs = {
        rtype: {
            "replicas": group.count,
            "restartPolicy": restart,
            "template": pod_template(spec, ctx, _container(spec, ctx, framework, group)),
        }
        for rtype, group in types.items()
    }
    return {
        "apiVersion": "kubeflow.org/v1",
        "kind": framework.kind,
        "metadata": object_metadata(spec, ctx),
        "spec": {
            **extra_spec,
            framework.replica_specs_key: replica_specs,
            "runPolicy": _run_policy(spec),
        },
    }


def _container(spec: Spec, ctx: RunContext, framework: Framework, group: ReplicaGroup) -> Container:
    return Container(
        name=framework.container,
        command=shell_command(spec),
        env=env_list(replica_env(ctx, {})),
        resources=replica_resources(group.resources),
        ports={framework.port_name: framework.default_port},
    )


def _run_policy(spec: Spec) -> dict[str, Any]:
    policy: dict[str, Any] = {"backoffLimit": spec.restart_policy.backoff_limit}
    if deadline := deadline_seconds(spec):
        policy["activeDeadlineSeconds"] = deadline
    return policy
