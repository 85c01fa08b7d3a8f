"""Ray driver: show the cluster, then run one task on each node type and report where it ran.

Prints machine-checkable lines:
    NODES <n>
    RESOURCES head=<amount> cpu-workers=<amount>
    TASK head NODE <node id>
    TASK cpu-workers NODE <node id>
    RESULT <pool> sum_of_squares=<value>
"""

from __future__ import annotations

import os
import socket
import sys

import ray

POOLS = ("head", "cpu-workers")


@ray.remote(num_cpus=0.5)
def sum_of_squares(n: int) -> tuple[str, str, int]:
    """A little real work, plus where it ran."""
    node = ray.get_runtime_context().get_node_id()
    return node, socket.gethostname(), sum(i * i for i in range(n))


def main() -> int:
    ray.init(address=os.environ.get("RAY_ADDRESS", "auto"))
    nodes = [node for node in ray.nodes() if node["Alive"]]
    print(f"NODES {len(nodes)}", flush=True)
    resources = ray.cluster_resources()
    print("RESOURCES " + " ".join(f"{pool}={resources.get(pool, 0.0)}" for pool in POOLS), flush=True)

    # A custom resource pins a task to the nodes that carry it: the head, or a worker pool.
    futures = {pool: sum_of_squares.options(resources={pool: 1}).remote(1_000_000) for pool in POOLS}
    placements: dict[str, str] = {}
    for pool, future in futures.items():
        node, host, value = ray.get(future)
        placements[pool] = node
        print(f"TASK {pool} NODE {node[:16]}", flush=True)
        print(f"RESULT {pool} sum_of_squares={value} host={host}", flush=True)
    ray.shutdown()
    if placements["head"] == placements["cpu-workers"]:
        print("ERROR both tasks ran on the same node", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
