"""The environment every replica starts with, whatever the operator.

Platform, project and `spec.env` variables come merged in `RunContext.base_env`; every operator
adds `PYTHONUNBUFFERED=1` (as the Kubeflow operators and the Ray submitter do) and then its own
variables. Operator variables go last so nothing in `base_env` can shadow a rank or an address.
"""

from __future__ import annotations

from collections.abc import Mapping

from aichor.operators.base import RunContext

UNBUFFERED = {"PYTHONUNBUFFERED": "1"}


def replica_env(ctx: RunContext, operator_vars: Mapping[str, str]) -> dict[str, str]:
    """`base_env`, then `PYTHONUNBUFFERED=1`, then the operator's variables (which win)."""
    return {**ctx.base_env, **UNBUFFERED, **operator_vars}


def host_port(host: str, port: int) -> str:
    """`host:port`, the form `RAY_ADDRESS` and `JAXOPERATOR_COORDINATOR_ADDRESS` take."""
    return f"{host}:{port}"
