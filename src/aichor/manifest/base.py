"""The base of every manifest block, and the error used for rules that span several fields.

Field-level rules raise plain `ValueError`s from validators. Rules that compare fields (pool
names unique, `usePVC.name` among the attached PVCs, …) are checked once the block is valid and
reported through `rule_violations`, which carries the exact sub-path of every problem so the
loader can point at the right line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

RULES_ERROR_TYPE = "manifest_rules"
"""pydantic error type whose `ctx["problems"]` lists `(sub-path, message)` pairs."""

Location = tuple[str | int, ...]
Problems = list[tuple[Location, str]]


class ManifestModel(BaseModel):
    """Base of every manifest block: unknown keys are errors, camelCase aliases."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        # Build validators on first use: importing the package stays cheap for commands
        # that never load a manifest.
        defer_build=True,
    )


def rule_violations(problems: Problems) -> PydanticCustomError:
    """One pydantic error carrying every cross-field problem of a block, with its sub-path."""
    summary = "; ".join(f"{'.'.join(str(part) for part in path)}: {msg}" for path, msg in problems)
    return PydanticCustomError(
        RULES_ERROR_TYPE, "{summary}", {"summary": summary, "problems": problems}
    )


def canonical_keys(data: Any, names: Iterable[str]) -> Any:
    """Rename keys that match one of `names` case-insensitively (`worker` → `Worker`).

    Kubeflow normalises replica-type keys the same way. A key is left alone when its canonical
    spelling is also present, so the duplicate is reported as an unknown field.
    """
    if not isinstance(data, Mapping):
        return data
    by_lower = {name.lower(): name for name in names}
    renamed: dict[Any, Any] = {}
    for key, value in data.items():
        canonical = by_lower.get(key.lower()) if isinstance(key, str) else None
        if canonical is not None and canonical != key and canonical not in data:
            renamed[canonical] = value
        else:
            renamed[key] = value
    return renamed


def case_insensitive_keys_schema(schema: dict[str, Any]) -> None:
    """JSON-schema counterpart of `canonical_keys`: properties match whatever the case.

    JSON Schema regexes (ECMA-262) have no inline case flag, hence `[Mm][Aa]…`. A required key
    becomes "some property name matches the pattern": `not: {propertyNames: {not: pattern}}`.
    """
    properties = schema.pop("properties", {})
    required = schema.pop("required", [])
    patterns = {
        name: "^" + "".join(f"[{c.upper()}{c.lower()}]" for c in name) + "$" for name in properties
    }
    schema["patternProperties"] = {patterns[name]: sub for name, sub in properties.items()}
    if required:
        schema["allOf"] = [
            {"not": {"propertyNames": {"not": {"pattern": patterns[name]}}}} for name in required
        ]
