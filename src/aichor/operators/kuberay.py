"""The kuberay operator: a Ray cluster (head and worker pools) running the command as its driver.

As on AIchor, the head carries the custom resource `head: 100000` and every node of pool P
carries `P: 100000`, so tasks can target them (`@ray.remote(resources={"P": 1})`). The command
runs once, as the Ray job driver on the head, with `RAY_ADDRESS` (and the legacy `RAY_SERVER`)
pointing at the GCS. Success is the driver's exit code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aichor.manifest import schema
from aichor.manifest.schema import KuberaySpec, Spec
from aichor.operators.base import RunContext, expect_spec
from aichor.operators.deadline import deadline_seconds
from aichor.operators.environment import host_port, replica_env
from aichor.operators.pod_template import Container, env_list, object_metadata, pod_template
from aichor.operators.resources import replica_resources
from aichor.replicas import RayNode, ReplicaKind, ReplicaPlan, ReplicaSpec, Resources, SuccessRule

HEAD = "head"
# The dashboard serves the job API to KubeRay's submitter from another pod.
DASHBOARD_HOST = "0.0.0.0"  # noqa: S104
DRIVER = "driver"
GCS_PORT = 6379
DASHBOARD_PORT = 8265
CLIENT_PORT = 10001
NODE_MARKER = 100000
"""Amount of the `head` / pool-name custom resource on each node: effectively unlimited."""
GIB = 1024**3


def plan_replicas(spec: Spec, ctx: RunContext) -> ReplicaPlan:
    """The head, every pool's nodes, then the driver that runs the command."""
    ray = expect_spec(spec, KuberaySpec)
    head = head_name(ctx)
    gcs_host = ctx.addressing.host(head)
    gcs_port = ctx.addressing.port(head, "gcs", GCS_PORT)
    dashboard_port = ctx.addressing.port(head, "dashboard", DASHBOARD_PORT)
    address = host_port(gcs_host, gcs_port)

    def node(name: str, pool: str, index: int, block: schema.Resources) -> ReplicaSpec:
        resources = replica_resources(block)
        return ReplicaSpec(
            name=name,
            replica_type=pool,
            index=index,
            kind=ReplicaKind.RAY_HEAD if pool == HEAD else ReplicaKind.RAY_WORKER,
            command="",
            # KubeRay sets RAY_ADDRESS in every Ray container, so tasks see it too.
            env=replica_env(ctx, {"RAY_ADDRESS": address}),
            resources=resources,
            job=name,
            ray=RayNode(
                gcs_host=gcs_host,
                gcs_port=gcs_port,
                dashboard_port=dashboard_port,
                num_cpus=resources.cpus,
                num_gpus=resources.gpus,
                memory_bytes=int(resources.memory_gib * GIB),
                custom_resources={pool: NODE_MARKER},
            ),
        )

    nodes = [node(head, HEAD, 0, ray.types.head.resources)]
    for pool in ray.types.workers:
        for i in range(pool.count):
            nodes.append(node(f"{ctx.workload_name}-{pool.name}-{i}", pool.name, i, pool.resources))
    return ReplicaPlan(ctx.workload_name, (*nodes, _driver(ray, ctx, address)), SuccessRule.DRIVER)


def head_name(ctx: RunContext) -> str:
    return f"{ctx.workload_name}-{HEAD}"


def _driver(spec: KuberaySpec, ctx: RunContext, address: str) -> ReplicaSpec:
    """The job driver runs on the head, so it holds no resources of its own."""
    name = f"{ctx.workload_name}-{DRIVER}"
    return ReplicaSpec(
        name=name,
        replica_type=DRIVER,
        index=0,
        kind=ReplicaKind.RAY_DRIVER,
        command=spec.command,
        env=replica_env(ctx, {"RAY_ADDRESS": address, "RAY_SERVER": address}),
        resources=Resources(cpus=0, memory_gib=0),
        job=name,
    )


def render_resource(spec: Spec, ctx: RunContext) -> dict[str, Any]:
    """A RayJob: the cluster is created for the job and deleted when the job ends."""
    ray = expect_spec(spec, KuberaySpec)
    body: dict[str, Any] = {
        "entrypoint": ray.command,
        "submissionMode": "K8sJobMode",
        "shutdownAfterJobFinishes": True,
        "backoffLimit": ray.restart_policy.backoff_limit,
        "rayClusterSpec": {
            "headGroupSpec": _head_group(ray, ctx),
            "workerGroupSpecs": [_worker_group(ray, ctx, pool) for pool in ray.types.workers],
        },
    }
    if deadline := deadline_seconds(ray):
        body["activeDeadlineSeconds"] = deadline
    return {
        "apiVersion": "ray.io/v1",
        "kind": "RayJob",
        "metadata": object_metadata(ray, ctx),
        "spec": body,
    }


def _head_group(spec: KuberaySpec, ctx: RunContext) -> dict[str, Any]:
    # The driver runs on the head and sees its environment; KubeRay sets RAY_ADDRESS there to
    # 127.0.0.1:<gcs port>, so the legacy RAY_SERVER gets the same value.
    env = replica_env(ctx, {"RAY_SERVER": host_port("127.0.0.1", GCS_PORT)})
    container = Container(
        name="ray-head",
        command=(),
        env=env_list(env),
        resources=replica_resources(spec.types.head.resources),
        ports={"gcs-server": GCS_PORT, "dashboard": DASHBOARD_PORT, "client": CLIENT_PORT},
    )
    return {
        "rayStartParams": {
            "dashboard-host": DASHBOARD_HOST,
            **_start_resources({HEAD: NODE_MARKER}),
        },
        "template": pod_template(spec, ctx, container),
    }


def _worker_group(spec: KuberaySpec, ctx: RunContext, pool: schema.RayWorkerPool) -> dict[str, Any]:
    container = Container(
        name="ray-worker",
        command=(),
        env=env_list(replica_env(ctx, {})),
        resources=replica_resources(pool.resources),
    )
    return {
        "groupName": pool.name,
        "replicas": pool.count,
        "minReplicas": pool.count,
        "maxReplicas": pool.count,
        "rayStartParams": _start_resources({pool.name: NODE_MARKER}),
        "template": pod_template(spec, ctx, container),
    }


def _start_resources(resources: Mapping[str, int]) -> dict[str, str]:
    """KubeRay's classic form: a JSON object string, quoted again for the `ray start` shell."""
    escaped = json.dumps(dict(resources)).replace('"', '\\"')
    return {"resources": f'"{escaped}"'}
