"""The Operator interface: two pure functions per distributed runtime.

`plan_replicas` lays out the replicas and the exact environment the Kubernetes operator would
inject (engines run that plan); `render_resource` returns the custom resource for Kubernetes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from aichor.errors import InvalidInput
from aichor.manifest.schema import Builder, Spec, SpecBase
from aichor.replicas import ReplicaPlan

SpecT = TypeVar("SpecT", bound=SpecBase)


class Addressing(Protocol):
    """How replicas reach each other: hostnames and default ports, or loopback and free ports."""

    def host(self, replica_name: str) -> str:
        """The address other replicas use to reach `replica_name`."""
        ...

    def port(self, replica_name: str, purpose: str, default: int) -> int:
        """The port `replica_name` listens on for `purpose` (e.g. "pytorch", "gcs")."""
        ...


class HostnameAddressing:
    """Engines that give every replica its own hostname (Docker, Kubernetes): default ports."""

    def host(self, replica_name: str) -> str:
        return replica_name

    def port(self, replica_name: str, purpose: str, default: int) -> int:
        return default


@dataclass(frozen=True)
class RunContext:
    """What an operator needs besides the manifest spec."""

    experiment_id: str
    """The experiment UUID (hex with dashes)."""
    workload_name: str
    """Short name `experiment-<8 hex>-<4 hex>`; replica names derive from it."""
    base_env: Mapping[str, str]
    """Platform variables, project variables and `spec.env`, already merged (spec.env wins)."""
    image: str = ""
    addressing: Addressing = field(default_factory=HostnameAddressing)
    namespace: str = "default"
    builder: Builder | None = None


def short_name(experiment_id: str) -> str:
    """`experiment-<first 8 hex>-<next 4 hex>` of an experiment UUID."""
    hexes = experiment_id.replace("-", "")
    return f"experiment-{hexes[:8]}-{hexes[8:12]}"


def expect_spec(spec: Spec, kind: type[SpecT]) -> SpecT:
    """Narrow the manifest's spec union to the one an operator module handles."""
    if not isinstance(spec, kind):
        raise InvalidInput(
            f"spec.operator {spec.operator!r} handed to the {kind.__name__} operator",
            field="spec.operator",
        )
    return spec


class Operator(Protocol):
    """One module per runtime implements these two functions."""

    def plan_replicas(self, spec: Spec, ctx: RunContext) -> ReplicaPlan: ...

    def render_resource(self, spec: Spec, ctx: RunContext) -> dict[str, Any]: ...
