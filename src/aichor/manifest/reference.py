"""docs/manifest.md, rendered from the manifest JSON Schema and its field descriptions.

Called by `aichor manifest schema --format markdown` and by the test that keeps the file current.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aichor.manifest.json_schema import manifest_json_schema

_CASE_PATTERN = re.compile(r"\^((?:\[[^\]]{2}\])+)\$")
_INTRO = """\
# Manifest reference

<!-- Generated from the JSON Schema by aichor.manifest.reference.render_markdown();
     regenerate with `aichor manifest schema --format markdown --output docs/manifest.md`. -->

`aichor_manifests/manifest.yaml` describes how to build an experiment's image and how to run
it. apiVersion `0.2.3` is current; `0.2.1` and `0.2.2` manifests are accepted as they are.
Unknown keys are errors. `spec` takes one of five shapes, chosen by `spec.operator`.
Replica-type keys of `spec.types` (`Master`, `Worker`, `Head`, `Workers`) match in any case.
Editors can validate against the schema printed by `aichor manifest schema`:
`# yaml-language-server: $schema=<path to the schema file>`.
"""


def render_markdown() -> str:
    """The whole reference page: one table per block, in the order the manifest nests them."""
    schema = manifest_json_schema()
    definitions: dict[str, Any] = schema["$defs"]
    sections = [_section("Manifest", "The top level of `manifest.yaml`.", schema)]
    for name in _reachable(schema, definitions):
        definition = definitions[name]
        sections.append(_section(name, definition.get("description", ""), definition))
    return _INTRO + "\n" + "\n".join(sections)


def _reachable(schema: dict[str, Any], definitions: dict[str, Any]) -> list[str]:
    """Definition names in first-reference order, walking from the root."""
    order: list[str] = []
    pending = _refs(schema)
    while pending:
        name = pending.pop(0)
        if name not in order:
            order.append(name)
            pending.extend(_refs(definitions[name]))
    return order


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"].rsplit("/", 1)[1]] if "$ref" in node else []
        for key, value in node.items():
            if key not in ("$defs", "discriminator"):
                found.extend(_refs(value))
        return found
    if isinstance(node, list):
        return [name for item in node for name in _refs(item)]
    return []


def _section(name: str, description: str, schema: dict[str, Any]) -> str:
    lines = [f'<a id="{name.lower()}"></a>', f"## {name}", "", description.strip(), ""]
    rows = _rows(schema)
    if rows:
        lines += ["| Field | Type | Required | Default | Description |", "|---|---|---|---|---|"]
        lines += rows
    return "\n".join(lines) + "\n"


def _rows(schema: dict[str, Any]) -> list[str]:
    required = set(schema.get("required", []))
    required |= {
        entry["not"]["propertyNames"]["not"]["pattern"] for entry in schema.get("allOf", [])
    }
    fields = {**schema.get("properties", {}), **schema.get("patternProperties", {})}
    rows = []
    for key, sub in fields.items():
        default = f"`{json.dumps(sub['default'])}`" if "default" in sub else ""
        cells = [
            f"`{_key_name(key)}`",
            _type(sub),
            "yes" if key in required else "",
            default,
            sub.get("description", "").replace("\n", " ").replace("|", "\\|"),
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def _key_name(key: str) -> str:
    """`^[Mm][Aa]…$` (a case-insensitive key) → `Master`."""
    match = _CASE_PATTERN.fullmatch(key)
    return match.group(1)[1::4] if match else key


def _type(schema: dict[str, Any]) -> str:
    """A short human rendering of a JSON Schema type."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return f"[{name}](#{name.lower()})"
    for combinator in ("oneOf", "anyOf"):
        if combinator in schema:
            parts = [_type(sub) for sub in schema[combinator] if sub.get("type") != "null"]
            return " or ".join(dict.fromkeys(parts))
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    if "enum" in schema:
        return "one of " + ", ".join(f"`{json.dumps(value)}`" for value in schema["enum"])
    kind = schema.get("type", "any")
    if isinstance(kind, list):
        return " or ".join(kind)
    if kind == "array":
        return f"list of {_type(schema.get('items', {}))}"
    if kind == "object" and ("additionalProperties" in schema or "patternProperties" in schema):
        pattern, values = next(iter(schema.get("patternProperties", {}).items()), ("", None))
        keys = f"name matching `{pattern}`" if pattern else "name"
        target = values if values is not None else schema["additionalProperties"]
        return f"map of {keys} → {_type(target) if isinstance(target, dict) else 'any'}"
    return str(kind)
