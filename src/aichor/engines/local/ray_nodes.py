"""`ray start` command lines for the local engine's Ray nodes, one cluster per experiment.

Every node runs `ray start --block` in the foreground of its own session, so the supervisor
owns it like any replica and stops it by killing its tree (not with `ray stop`, which is slow
and stops every cluster on the machine). Concurrent clusters are isolated by giving every port
Ray opens a distinct reserved port and by a per-experiment `--temp-dir`, kept short because Ray
puts unix sockets under it (their paths must stay under 108 bytes).

Readiness costs nothing extra: `ray start` prints `Ray runtime started.` once its node has
registered with the GCS, and the supervisor watches the node's output for that line.
"""

from __future__ import annotations

import json
import math
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from aichor.engines.local.ports import LoopbackAddressing
from aichor.errors import InvalidInput
from aichor.files import write_json
from aichor.replicas import RayNode, ReplicaKind, ReplicaSpec

READY_MARKER = "Ray runtime started"
"""Printed by `ray start` when the node is up and has joined the cluster."""
WORKER_PORTS = 200
"""Ports per node for Ray worker processes (one each); Ray's default range is ~10,000."""
_MIN_OBJECT_STORE = 80 * 1024**2
_NODE_ENV = {
    # No usage reports to the network, no interactive prompts.
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_USAGE_STATS_PROMPT_ENABLED": "0",
}


def ray_executable(env: Mapping[str, str]) -> str:
    """The `ray` command of the experiment environment, or a clear error before anything runs."""
    found = shutil.which("ray", path=env.get("PATH", ""))
    if found is None:
        raise InvalidInput(
            "kuberay needs Ray in the experiment environment: add ray[default] to the packages "
            "your Dockerfile installs (e.g. `RUN pip install 'ray[default]'` or requirements.txt)",
            field="builder.dockerfile",
        )
    return found


def make_temp_dir() -> Path:
    """A short, private Ray temp dir (`/tmp/aichor-ray-XXXXXXXX`)."""
    return Path(
        tempfile.mkdtemp(prefix="aichor-ray-", dir="/tmp")
    )  # short on purpose: socket paths


def node_env(base: Mapping[str, str]) -> dict[str, str]:
    return {**base, **_NODE_ENV}


def node_argv(
    ray: str, replica: ReplicaSpec, ports: LoopbackAddressing, temp_dir: Path
) -> list[str]:
    """`ray start --block ...` for a RAY_HEAD or RAY_WORKER replica, every port pinned."""
    node = replica.ray
    if node is None:
        raise ValueError(f"{replica.name} is a Ray node without ray settings")
    name = replica.name
    first_worker, last_worker = ports.port_range(name, "ray-workers", WORKER_PORTS)
    argv = [ray, "start", "--block", "--disable-usage-stats"]
    if replica.kind == ReplicaKind.RAY_HEAD:
        argv += [
            "--head",
            f"--port={node.gcs_port}",
            f"--dashboard-port={node.dashboard_port}",
            f"--dashboard-host={node.gcs_host}",
            f"--ray-client-server-port={ports.port(name, 'ray-client', 10001)}",
        ]
    else:
        argv.append(f"--address={node.gcs_host}:{node.gcs_port}")
    memory = max(node.memory_bytes, 0)
    argv += [
        f"--node-ip-address={node.gcs_host}",
        f"--num-cpus={max(math.ceil(node.num_cpus), 0)}",
        f"--num-gpus={max(node.num_gpus, 0)}",
        f"--memory={memory}",
        # Ray's default is 30% of the *machine's* memory per node; bound it by the node's own.
        f"--object-store-memory={max(int(memory * 0.3), _MIN_OBJECT_STORE)}",
        f"--resources={json.dumps(dict(node.custom_resources), separators=(',', ':'))}",
        f"--node-manager-port={ports.port(name, 'ray-node-manager', 0)}",
        f"--object-manager-port={ports.port(name, 'ray-object-manager', 0)}",
        f"--dashboard-agent-listen-port={ports.port(name, 'ray-agent-listen', 52365)}",
        f"--dashboard-agent-grpc-port={ports.port(name, 'ray-agent-grpc', 0)}",
        f"--metrics-export-port={ports.port(name, 'ray-metrics', 8080)}",
        f"--runtime-env-agent-port={ports.port(name, 'ray-runtime-env', 0)}",
        f"--min-worker-port={first_worker}",
        f"--max-worker-port={last_worker}",
        f"--temp-dir={temp_dir}",
    ]
    return argv


def write_endpoints(folder: Path, head: RayNode) -> None:
    """Record where the head's dashboard listens (`<run folder>/endpoints.json`), for the
    server's reverse proxy; written atomically when the head starts."""
    url = f"http://{head.gcs_host}:{head.dashboard_port}"
    write_json(folder / "endpoints.json", {"ray-dashboard": url})
