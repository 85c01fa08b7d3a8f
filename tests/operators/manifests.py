"""Build manifest specs and run contexts for operator tests through the real manifest models."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aichor.manifest.schema import Manifest, Spec
from aichor.operators.base import Addressing, HostnameAddressing, RunContext, short_name

EXPERIMENT_ID = "3e21cd11-06c0-4b5e-9a2f-5d6c7b8a9f01"
WORKLOAD = "experiment-3e21cd11-06c0"
BASE_ENV = {
    "AICHOR_EXPERIMENT_ID": EXPERIMENT_ID,
    "AICHOR_OUTPUT_PATH": "s3://out/output/" + EXPERIMENT_ID + "/",
    "MY_FLAG": "on",
}
IMAGE = "registry.example/team/train:abc123"

# Every optional block of the spec, to render the largest pod template.
MAX_FIELDS: dict[str, Any] = {
    "env": {"BATCH_SIZE": "32"},
    "extraLabels": {"team": "research"},
    "activeDeadlineSeconds": 3600,
    "gracefulTermination": {
        "shutdownCommand": ["python", "save.py"],
        "terminationGracePeriodSeconds": 90,
    },
    "restartPolicy": {"backoffLimit": 2},
    "securityContext": {"runAsUser": 1000, "runAsGroup": 1000, "fsGroup": 100, "ptrace": True},
    "storage": {
        "sharedVolume": {"mountPoint": "/mnt/shared", "sizeGB": 16, "storageClass": "cephfs"},
        "attachExistingPVCs": [{"name": "datasets", "mountPoint": "/mnt/datasets"}],
    },
}

MAX_RESOURCES: dict[str, Any] = {
    "cpus": 1.5,
    "ramRatio": 3,
    "shmSizeGB": 8,
    "machineName": "gpu-node-7",
    "accelerators": {"gpu": {"count": 2, "type": "gpu", "product": "Tesla-V100-SXM3-32GB"}},
    "rdma": {"devices": 1},
}


def spec(operator: str, types: Any, **fields: Any) -> Spec:
    """A validated spec of a full manifest with these `spec.types` and extra spec fields."""
    manifest = Manifest.model_validate(
        {
            "kind": "AIchorManifest",
            "apiVersion": "0.2.3",
            "builder": {"image": "train"},
            "spec": {"operator": operator, "image": "train", "command": "python3 -u main.py"}
            | {"types": types}
            | fields,
        }
    )
    return manifest.spec


def context(
    addressing: Addressing | None = None,
    base_env: Mapping[str, str] = BASE_ENV,
    experiment_id: str = EXPERIMENT_ID,
) -> RunContext:
    """A run context named as the platform names it, hostnames unless told otherwise."""
    return RunContext(
        experiment_id=experiment_id,
        workload_name=short_name(experiment_id),
        base_env=dict(base_env),
        image=IMAGE,
        addressing=addressing or HostnameAddressing(),
        namespace="team-a",
    )


def operator_env(env: Mapping[str, str]) -> dict[str, str]:
    """A replica's variables minus the base environment and PYTHONUNBUFFERED."""
    return {k: v for k, v in env.items() if k not in BASE_ENV and k != "PYTHONUNBUFFERED"}
