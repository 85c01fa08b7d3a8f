"""How each distributed runtime lays out replicas: one pure module per operator.

Handed a validated manifest spec and a RunContext; returns a ReplicaPlan or a custom resource.
May import: aichor.manifest, aichor.replicas, aichor.lifecycle, aichor.errors. No I/O, no SDKs.
"""

from __future__ import annotations

from aichor.errors import InvalidInput
from aichor.operators import jax, jobset, kuberay, pytorch, xgboost
from aichor.operators.base import Operator

OPERATORS: dict[str, Operator] = {
    "kuberay": kuberay,
    "pytorch": pytorch,
    "jax": jax,
    "xgboost": xgboost,
    "jobset": jobset,
}


def get(name: str) -> Operator:
    """The operator module for `spec.operator`."""
    try:
        return OPERATORS[name]
    except KeyError:
        known = ", ".join(sorted(OPERATORS))
        raise InvalidInput(
            f"unknown operator {name!r}; known: {known}", field="spec.operator"
        ) from None
