"""Environment variable names the platform or an operator sets, which `spec.env` cannot override.

Imported by the manifest schema (to reject them) and by code that assembles replica environments.
"""

from __future__ import annotations

PROTECTED_PREFIXES: tuple[str, ...] = ("AICHOR_", "PET_", "JAXOPERATOR_")
"""Every name starting with one of these is reserved."""

PROTECTED_NAMES: frozenset[str] = frozenset(
    {
        # Platform variables (runtime contract, variables for every replica).
        "VCS_SHA",
        "VCS_BRANCH",
        "VCS_TYPE",
        "VCS_COMMIT_MESSAGE",
        "AWS_ENDPOINT_URL",
        "S3_ENDPOINT",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "PYTHONUNBUFFERED",
        # pytorch and xgboost.
        "MASTER_ADDR",
        "MASTER_PORT",
        "WORLD_SIZE",
        "RANK",
        "WORKER_PORT",
        "WORKER_ADDRS",
        # jax (Kubeflow names; the AIchor ones are covered by the JAXOPERATOR_ prefix).
        "COORDINATOR_ADDRESS",
        "COORDINATOR_PORT",
        "NUM_PROCESSES",
        "PROCESS_ID",
        # jobset.
        "JOB_INDEX",
        "JOB_COMPLETION_INDEX",
        "JOB_GLOBAL_INDEX",
        "GLOBAL_REPLICAS",
        "REPLICATED_JOB_NAME",
        "REPLICATED_JOB_REPLICAS",
        "JOBSET_NAME",
        # kuberay.
        "RAY_ADDRESS",
        "RAY_SERVER",
    }
)
"""Exact reserved names (besides the prefixes)."""


def is_protected(name: str) -> bool:
    """True when `name` is set by the platform or an operator and must not come from spec.env."""
    return name in PROTECTED_NAMES or name.startswith(PROTECTED_PREFIXES)
