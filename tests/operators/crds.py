"""Validate rendered custom resources against the upstream CRD schemas in shared/crds.

The CRDs are test data kept outside the repository (up to 1.4 MB each): each is parsed once per
session. Objects that list their properties are closed (`additionalProperties: false`) unless the
CRD keeps unknown fields, so a misspelt field fails here instead of being pruned silently by the
API server.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import yaml

ROOT = Path(__file__).resolve().parents[2]
CRD_DIR = Path(os.environ.get("AICHOR_CRD_DIR", ROOT.parent / "shared" / "crds"))
CRD_FILES = {
    ("ray.io/v1", "RayJob"): "ray.io_rayjobs.yaml",
    ("kubeflow.org/v1", "PyTorchJob"): "kubeflow.org_pytorchjobs.yaml",
    ("kubeflow.org/v1", "XGBoostJob"): "kubeflow.org_xgboostjobs.yaml",
    ("kubeflow.org/v1", "JAXJob"): "kubeflow.org_jaxjobs.yaml",
    ("jobset.x-k8s.io/v1alpha2", "JobSet"): "jobset.x-k8s.io_jobsets.yaml",
}
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.cache
def schema_for(api_version: str, kind: str) -> dict[str, Any]:
    """The `openAPIV3Schema` of the CRD serving `api_version`/`kind`, with objects closed."""
    path = CRD_DIR / CRD_FILES[(api_version, kind)]
    crd = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506
    group = crd["spec"]["group"]
    for version in crd["spec"]["versions"]:
        if f"{group}/{version['name']}" == api_version:
            schema: dict[str, Any] = _closed(version["schema"]["openAPIV3Schema"])
            return schema
    raise KeyError(f"{path.name} serves no {api_version}")


def _closed(node: Any) -> Any:
    if isinstance(node, list):
        return [_closed(item) for item in node]
    if not isinstance(node, Mapping):
        return node
    closed = {key: _closed(value) for key, value in node.items()}
    keeps_unknown = closed.get("x-kubernetes-preserve-unknown-fields") is True
    if "properties" in closed and "additionalProperties" not in closed and not keeps_unknown:
        closed["additionalProperties"] = False
    return closed


def crd_errors(resource: Mapping[str, Any]) -> list[str]:
    """Every schema violation of `resource`, as `path: message` lines (empty when valid)."""
    schema = schema_for(resource["apiVersion"], resource["kind"])
    validator = jsonschema.Draft7Validator(schema)
    return [
        f"{'/'.join(str(part) for part in error.absolute_path)}: {error.message}"
        for error in validator.iter_errors(resource)
    ]
