"""The manifest's JSON Schema (draft 2020-12), for editors and `aichor manifest schema`.

Built on demand, never at import: `aichor run` imports the manifest package on its hot path.
"""

from __future__ import annotations

from typing import Any

from aichor.manifest.schema import Manifest

DRAFT = "https://json-schema.org/draft/2020-12/schema"
TITLE = "AIchor manifest"


def manifest_json_schema() -> dict[str, Any]:
    """The JSON Schema of `manifest.yaml`, keyed by the manifest's own spelling."""
    schema = Manifest.model_json_schema(by_alias=True, mode="validation")
    _drop_property_titles(schema)
    for definition in schema.get("$defs", {}).values():
        _drop_property_titles(definition)
    return {
        "$schema": DRAFT,
        "title": TITLE,
        **{key: value for key, value in schema.items() if key != "title"},
    }


def _drop_property_titles(schema: dict[str, Any]) -> None:
    """pydantic titles every property after its attribute ("Ram Ratio"); editors show the key."""
    for name, sub in schema.get("properties", {}).items():
        if isinstance(sub, dict) and sub.get("title", "").replace(" ", "").lower() == name.lower():
            del sub["title"]
    for sub in schema.get("patternProperties", {}).values():
        if isinstance(sub, dict):
            sub.pop("title", None)
