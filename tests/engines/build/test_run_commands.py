"""RUN lines: which commands install Python packages, and everything else reported as skipped."""

from __future__ import annotations

import pytest

from aichor.engines.local.build.run_commands import (
    ChangeDir,
    Install,
    Skip,
    Sync,
    actions,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pip install six idna==3.7", Install(specs=("six", "idna==3.7"))),
        ("pip3 install --no-cache-dir -U six", Install(specs=("six",))),
        ("python -m pip install -r requirements.txt", Install(requirements=("requirements.txt",))),
        ("python3.11 -m pip install -rreqs.txt -c c.txt", Install(
            requirements=("reqs.txt",), constraints=("c.txt",))),
        ("uv pip install --system six", Install(specs=("six",))),
        ("pip install .", Install(projects=(".",))),
        ("pip install -e .[dev]", Install(projects=(".[dev]",))),
        ("pip install --index-url https://x/simple six", Install(
            specs=("six",), options=("--index-url", "https://x/simple"))),
        ("uv add six", Install(specs=("six",))),
        ("uv sync --frozen --no-dev", Sync(("--frozen", "--no-dev"))),
        ("uv sync --extra gpu --project sub", Sync(("--extra", "gpu"), "sub")),
        ("PIP_NO_CACHE=1 pip install six", Install(specs=("six",))),
    ],
)  # fmt: skip
def test_python_installs_are_recognised(text: str, expected: object) -> None:
    assert actions(text) == [expected]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("apt-get install -y curl", "OS-level"),
        ("apk add --no-cache git", "OS-level"),
        ("curl -LsSf https://example.invalid/x.sh", "not a Python package command"),
        ("pip install uv", "uv is provided"),
        ("uv venv /opt/venv", "made by aichor"),
        ("pip uninstall -y six", "other than install"),
    ],
)
def test_other_commands_are_skipped_with_a_reason(text: str, reason: str) -> None:
    (action,) = actions(text)
    assert isinstance(action, Skip)
    assert reason in action.reason


def test_compound_lines_are_split_and_cd_is_followed() -> None:
    result = actions("apt-get update && cd /opt/app; pip install six || true")
    assert [type(a) for a in result] == [Skip, ChangeDir, Install, Skip]
    assert result[1] == ChangeDir("/opt/app")
