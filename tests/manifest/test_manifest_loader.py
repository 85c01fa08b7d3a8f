"""The loader refuses malformed input with our own error, never anything else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aichor.manifest import (
    PROTECTED_NAMES,
    ManifestInvalid,
    is_protected,
    load_manifest,
    load_manifest_file,
)
from tests.manifest.conftest import EXAMPLE_FILES


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("", None, "empty manifest"),
        ("# only a comment\n", None, "empty manifest"),
        ("- a\n- b\n", 1, "top level must be a mapping, not list"),
        ("just text\n", 1, "top level must be a mapping, not str"),
        ("kind: AIchorManifest\nspec: [\n", 3, "not valid YAML"),
        ("kind: a\n\tapiVersion: b\n", 2, "not valid YAML"),
        ("a: 1\n---\nb: 2\n", 2, "not valid YAML"),
        ("a: !!python/object:os.system x\n", 1, "not valid YAML"),
        ("a: !!int abc\n", None, "bad value"),
        ("a: &x [*x]\n", 1, "refers to itself"),
        ("a: 1\nb: 2\na: 3\n", 3, "duplicate key 'a' (first at line 1)"),
        ("a: \x00\n", 1, "not valid YAML"),
    ],
)
def test_malformed_yaml(text: str, line: int | None, fragment: str) -> None:
    with pytest.raises(ManifestInvalid) as caught:
        load_manifest(text, source="m.yaml")
    (issue,) = caught.value.errors
    assert issue.line == line
    assert fragment in issue.message


def test_alias_bomb_is_refused_quickly() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    with pytest.raises(ManifestInvalid, match="too large"):
        load_manifest("\n".join(lines))


def test_files_not_utf8_missing_or_directories(tmp_path: Path) -> None:
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"kind: AIchorManifest\nname: caf\xe9\n")
    with pytest.raises(ManifestInvalid, match=r"latin.yaml:2: not UTF-8"):
        load_manifest_file(latin)
    with pytest.raises(ManifestInvalid, match="file not found"):
        load_manifest_file(tmp_path / "absent.yaml")
    with pytest.raises(ManifestInvalid, match="is a directory"):
        load_manifest_file(tmp_path)


def test_protected_names() -> None:
    assert {"VCS_SHA", "RAY_ADDRESS", "JOBSET_NAME", "PYTHONUNBUFFERED"} <= PROTECTED_NAMES
    assert is_protected("AICHOR_ANYTHING") and is_protected("JAXOPERATOR_PROCESS_ID")
    assert is_protected("PET_NODE_RANK") and not is_protected("LEARNING_RATE")


# Arbitrary YAML-able data, to fuzz the loader.
_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
_data = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
_EXAMPLES = [yaml.safe_load(path.read_text()) for path in EXAMPLE_FILES]


@st.composite
def _mutated(draw: st.DrawFn, value: Any) -> Any:
    """A valid manifest with random parts replaced or added: reaches the deep validators."""
    if draw(st.integers(0, 7)) == 0:
        return draw(_data)
    if isinstance(value, dict):
        result = {key: draw(_mutated(item)) for key, item in value.items()}
        if draw(st.integers(0, 5)) == 0:
            result[draw(st.text(max_size=10))] = draw(_data)
        return result
    if isinstance(value, list):
        return [draw(_mutated(item)) for item in value]
    return value


def _assert_loads_or_reports(text: str) -> None:
    try:
        load_manifest(text)
    except ManifestInvalid as exc:
        assert exc.errors
        assert all(issue.line is None or issue.line >= 1 for issue in exc.errors)
        assert all("\n" not in issue.render("m") for issue in exc.errors)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(_data)
def test_arbitrary_yaml_data(data: object) -> None:
    _assert_loads_or_reports(yaml.safe_dump(data))


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_EXAMPLES).flatmap(_mutated))
def test_mutated_examples(data: object) -> None:
    _assert_loads_or_reports(yaml.safe_dump(data))


@settings(max_examples=300)
@given(st.text(max_size=200))
def test_arbitrary_text(text: str) -> None:
    _assert_loads_or_reports(text)


def test_a_valid_text_is_parsed_once_and_an_invalid_one_fails_alike_each_time() -> None:
    text = EXAMPLE_FILES[0].read_text()
    first = load_manifest(text, source="m.yaml")
    assert load_manifest(str(text), source="m.yaml") is first  # the same text, parsed once
    assert load_manifest(text + "\n", source="m.yaml") == first  # other text, same manifest
    broken = text.replace("kind:", "kind: [", 1)
    errors = []
    for _ in range(2):
        with pytest.raises(ManifestInvalid) as caught:
            load_manifest(broken, source="m.yaml")
        errors.append(str(caught.value))
    assert errors[0] == errors[1] and "m.yaml" in errors[0]
