"""The files `aichor local-repo init` writes, per operator: dependencies, replica layout, main.py.

Shapes and dependency pins follow examples/ (one complete repository per operator), so a
generated repository reuses what those examples already downloaded. `$name`, `$package` and
`$image` are filled in by local_repo.py (string.Template).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OperatorTemplate:
    """What differs between operators: dependencies, the `spec.types` block, main.py, env."""

    dependencies: tuple[str, ...]
    types: str  # YAML lines under `types:`, with `$cpus`, `$ram` and `$gpu` placeholders
    main: str
    env: dict[str, str]
    summary: str


DOCKERFILE = """\
FROM python:3.11-slim

# uv installs the dependencies listed in pyproject.toml into the image's Python.
RUN pip install --no-cache-dir uv
ENV UV_COMPILE_BYTECODE=1 \\
    UV_LINK_MODE=copy$docker_env

WORKDIR /app
COPY pyproject.toml ./
RUN uv pip install --system --no-cache -r pyproject.toml

COPY src/ ./src/
ENV PYTHONPATH=/app/src
CMD ["python", "-m", "$package.main"]
"""

PYPROJECT = """\
[project]
name = "$name"
version = "0.1.0"
description = "$summary"
requires-python = ">=3.11"
dependencies = [$dependencies]
"""

MANIFEST = """\
# $summary
# Reference: `aichor manifest schema --format markdown`.
kind: AIchorManifest
apiVersion: 0.2.3

builder:
  image: $image
  dockerfile: ./Dockerfile
  context: .

spec:
  operator: $operator
  image: $image
  command: python -m $package.main$env
  types:
$types"""

README = """\
# $name

$summary

- `aichor run` runs it on this machine (no server needed).
- `aichor experiments submit local` sends this working tree to an aichor server.
- `git commit -m "aichor[manifest.yaml]: <message>"` and a push trigger it from the repository.

Layout: `Dockerfile` (uv installs the dependencies of `pyproject.toml`), the manifest in
`aichor_manifests/manifest.yaml` (operator `$operator`, profile `$profile`), the code in
`src/$package/main.py`.
"""

INIT = '"""$name: an AIchor experiment."""\n'

_JOBSET_MAIN = '''\
"""One JobSet pod: print the indices the JobSet gave it, do a little work, exit 0."""

from __future__ import annotations

import hashlib
import os
import sys


def main() -> int:
    kind = os.environ.get("REPLICATED_JOB_NAME", "worker")
    job = int(os.environ.get("JOB_INDEX", "0"))
    completion = int(os.environ.get("JOB_COMPLETION_INDEX", "0"))
    print(f"JOBSET type={kind} job={job} completion={completion}", flush=True)
    digest = hashlib.sha256(f"{kind}:{job}:{completion}".encode()).hexdigest()[:12]
    print(f"DONE type={kind} job={job} completion={completion} digest={digest}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
'''

_PYTORCH_MAIN = '''\
"""torch.distributed over gloo: every rank contributes rank+1; all ranks must see the sum."""

from __future__ import annotations

import datetime
import os
import sys

import torch
import torch.distributed as dist


def main() -> int:
    rank, world_size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    # "env://" reads MASTER_ADDR/MASTER_PORT/WORLD_SIZE/RANK, as the operator sets them.
    dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=120))
    tensor = torch.tensor([float(rank + 1)])
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    expected = world_size * (world_size + 1) / 2
    print(f"RANK {rank} ALLREDUCE {tensor.item()} EXPECTED {expected}", flush=True)
    dist.destroy_process_group()
    return 0 if tensor.item() == expected else 1


if __name__ == "__main__":
    sys.exit(main())
'''

_JAX_MAIN = '''\
"""jax.distributed: each process contributes its share; every process sees the total."""

from __future__ import annotations

import os
import sys

import jax
import jax.numpy as jnp
from jax.experimental import multihost_utils


def main() -> int:
    count = int(os.environ["JAXOPERATOR_NUM_PROCESSES"])
    process_id = int(os.environ["JAXOPERATOR_PROCESS_ID"])
    jax.distributed.initialize(
        coordinator_address=os.environ["JAXOPERATOR_COORDINATOR_ADDRESS"],
        num_processes=count,
        process_id=process_id,
    )
    total = float(jnp.sum(multihost_utils.process_allgather(jnp.float32(process_id + 1))))
    expected = count * (count + 1) / 2
    print(f"PROCESS {process_id} SUM {total} EXPECTED {expected}", flush=True)
    jax.distributed.shutdown()
    return 0 if total == expected else 1


if __name__ == "__main__":
    sys.exit(main())
'''

_RAY_MAIN = '''\
"""Ray driver: run a few tasks on the cluster the operator started and print the results."""

from __future__ import annotations

import os
import sys

import ray


@ray.remote(num_cpus=0.5)
def square(n: int) -> int:
    return n * n


def main() -> int:
    ray.init(address=os.environ.get("RAY_ADDRESS", "auto"))
    print(f"NODES {len([n for n in ray.nodes() if n['Alive']])}", flush=True)
    results = ray.get([square.remote(i) for i in range(8)])
    print(f"RESULT {sum(results)}", flush=True)
    ray.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
'''

_XGBOOST_MAIN = '''\
"""Distributed XGBoost: rank 0 runs the tracker, every rank trains on its shard of the data."""

from __future__ import annotations

import os
import sys

import numpy as np
import xgboost as xgb
from xgboost import collective
from xgboost.tracker import RabitTracker


def main() -> int:
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    host, port = os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"])
    tracker = None
    if rank == 0:
        tracker = RabitTracker(host_ip=host, n_workers=world, port=port, sortby="task")
        tracker.start()
    rng = np.random.default_rng(seed=42)
    features = rng.normal(size=(2000, 8))
    labels = features @ rng.normal(size=8)
    data = xgb.DMatrix(features[rank::world], label=labels[rank::world])
    args = {"dmlc_tracker_uri": host, "dmlc_tracker_port": port, "dmlc_task_id": str(rank)}
    with collective.CommunicatorContext(**args):
        booster = xgb.train({"tree_method": "hist", "nthread": 1}, data, num_boost_round=5)
    print(f"RANK {rank} TRAINED rounds={booster.num_boosted_rounds()}", flush=True)
    if tracker is not None:
        tracker.wait_for()
    return 0


if __name__ == "__main__":
    sys.exit(main())
'''


def _pair(first: str, second: str) -> str:
    return "".join(
        f"    {kind}:\n      count: 1\n      resources:\n        cpus: $cpus\n"
        f"        ramRatio: $ram$gpu\n"
        for kind in (first, second)
    )


OPERATORS: dict[str, OperatorTemplate] = {
    "jobset": OperatorTemplate(
        dependencies=(),
        types="    worker:\n      count: 2\n      completions: 2\n      parallelisms: 1\n"
        "      resources:\n        cpus: $cpus\n        ramRatio: $ram$gpu\n",
        main=_JOBSET_MAIN,
        env={},
        summary="A JobSet: 2 indexed jobs of 2 completions each, standard library only.",
    ),
    "pytorch": OperatorTemplate(
        dependencies=("torch==2.13.0",),
        types=_pair("Master", "Worker"),
        main=_PYTORCH_MAIN,
        env={"OMP_NUM_THREADS": "1"},
        summary="PyTorch distributed (PyTorchJob): a Master and a Worker all-reduce over gloo.",
    ),
    "jax": OperatorTemplate(
        dependencies=("jax[cpu]==0.10.2",),
        types="    Worker:\n      count: 2\n      resources:\n        cpus: $cpus\n"
        "        ramRatio: $ram$gpu\n",
        main=_JAX_MAIN,
        env={"JAX_PLATFORMS": "cpu"},
        summary="JAX distributed (JAXJob): two processes sum their shares.",
    ),
    "kuberay": OperatorTemplate(
        dependencies=("ray[default]==2.60.0",),
        types="    Head:\n      resources:\n        cpus: $cpus\n        ramRatio: $ram\n"
        "    Workers:\n      - name: workers\n        count: 1\n        resources:\n"
        "          cpus: $cpus\n          ramRatio: $ram$gpu_pool\n",
        main=_RAY_MAIN,
        env={},
        summary="A Ray cluster (RayJob): a head and a worker pool run a few tasks.",
    ),
    "xgboost": OperatorTemplate(
        dependencies=("xgboost-cpu==3.2.0", "numpy>=2.0"),
        types=_pair("Master", "Worker"),
        main=_XGBOOST_MAIN,
        env={},
        summary="Distributed XGBoost (XGBoostJob): a Master and a Worker train one model.",
    ),
}
