"""The JSON Schema agrees with the loader on examples, and docs/manifest.md is current."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # no stubs in the dev group
import pytest
import yaml

from aichor.manifest.json_schema import DRAFT, manifest_json_schema
from aichor.manifest.reference import render_markdown
from tests.manifest.conftest import EXAMPLE_FILES, manifest_text

DOCS = Path(__file__).parents[2] / "docs" / "manifest.md"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = manifest_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_schema_header_and_union() -> None:
    schema = manifest_json_schema()
    assert schema["$schema"] == DRAFT and schema["title"] == "AIchor manifest"
    spec = schema["properties"]["spec"]
    assert spec["discriminator"]["propertyName"] == "operator"
    assert len(spec["oneOf"]) == 5
    assert schema["properties"]["kind"]["description"]
    for name, definition in schema["$defs"].items():
        fields = {**definition.get("properties", {}), **definition.get("patternProperties", {})}
        assert all("description" in sub for sub in fields.values()), name


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_examples_are_valid(validator: jsonschema.Draft202012Validator, path: Path) -> None:
    errors = [error.message for error in validator.iter_errors(yaml.safe_load(path.read_text()))]
    assert errors == []


@pytest.mark.parametrize(
    ("text"),
    [
        manifest_text("comand: x\ntypes: {Worker: {}}"),
        manifest_text("types: {Worker: {}}", operator="tf"),
        manifest_text("types: {Wrkr: {}}"),
        manifest_text("types: {Worker: {}}", operator="xgboost"),
        manifest_text("types: {Worker: {}}", operator="jobset"),
        manifest_text("types:\n  Worker:\n    resources: {accelerators: {gpu: {count: -1}}}"),
        manifest_text("types: {Head: {}, Workers: []}", operator="kuberay"),
    ],
    ids=["typo", "operator", "type-key", "xgboost-master", "jobset-key", "gpu", "ray-pools"],
)
def test_invalid_examples_are_rejected(
    validator: jsonschema.Draft202012Validator, text: str
) -> None:
    data: Any = yaml.safe_load(text)
    assert list(validator.iter_errors(data))


def test_docs_are_generated_from_the_schema() -> None:
    assert DOCS.read_text(encoding="utf-8") == render_markdown(), (
        "docs/manifest.md is stale: run "
        "`aichor manifest schema --format markdown --output docs/manifest.md`"
    )
