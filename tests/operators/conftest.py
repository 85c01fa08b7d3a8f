"""Operator tests need the upstream CRDs; without them the render tests cannot run."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from tests.operators.crds import CRD_DIR, crd_errors


@pytest.fixture
def assert_valid_resource() -> Callable[[Mapping[str, Any]], None]:
    """Fail with every violation when a rendered resource does not match its CRD."""
    if not CRD_DIR.is_dir():
        pytest.skip(f"CRD schemas not found in {CRD_DIR} (set AICHOR_CRD_DIR)")

    def check(resource: Mapping[str, Any]) -> None:
        errors = crd_errors(resource)
        assert errors == [], "\n".join(errors)

    return check
