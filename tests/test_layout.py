"""The shape of the package: modules stay small and every package says what it is for."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "aichor"
MAX_LINES = 400
MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_fits_in_a_head(module: Path) -> None:
    lines = len(module.read_text(encoding="utf-8").splitlines())
    assert lines < MAX_LINES, f"{module.relative_to(PACKAGE)} has {lines} lines; split it"


@pytest.mark.parametrize(
    "package",
    sorted(p for p in PACKAGE.rglob("__init__.py")),
    ids=lambda p: str(p.parent.relative_to(PACKAGE.parent)),
)
def test_every_package_opens_with_its_role(package: Path) -> None:
    docstring = ast.get_docstring(ast.parse(package.read_text(encoding="utf-8")))
    assert docstring, f"{package} needs a docstring saying its role"


def test_no_catch_all_modules() -> None:
    banned = {"utils.py", "helpers.py", "common.py", "misc.py"}
    offenders = [str(p.relative_to(PACKAGE)) for p in MODULES if p.name in banned]
    assert offenders == []
