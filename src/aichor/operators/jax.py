"""The jax operator. Placeholder: the operators work item implements it."""

from __future__ import annotations

from typing import Any

from aichor.manifest.schema import Spec
from aichor.operators.base import RunContext
from aichor.replicas import ReplicaPlan


def plan_replicas(spec: Spec, ctx: RunContext) -> ReplicaPlan:
    raise NotImplementedError


def render_resource(spec: Spec, ctx: RunContext) -> dict[str, Any]:
    raise NotImplementedError
