"""Shared fixtures of the manifest tests: the example manifests and a template for broken ones."""

from __future__ import annotations

import textwrap
from pathlib import Path

EXAMPLES = Path(__file__).parent / "examples"
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))


def manifest_text(
    spec_tail: str,
    *,
    operator: str = "pytorch",
    spec_image: str = "app",
    api_version: str = "0.2.3",
    kind: str = "AIchorManifest",
    top_level: str = "",
) -> str:
    """A manifest whose first 8 lines are fixed; `spec_tail` (under `spec:`) starts at line 9.

    `top_level` is appended after it, at the top level.
    """
    head = (
        f"kind: {kind}\n"  # 1
        f"apiVersion: {api_version}\n"  # 2
        "builder:\n"  # 3
        "  image: app\n"  # 4
        "spec:\n"  # 5
        f"  operator: {operator}\n"  # 6
        f"  image: {spec_image}\n"  # 7
        "  command: python main.py\n"  # 8
    )
    body = textwrap.indent(textwrap.dedent(spec_tail).strip("\n"), "  ")
    return head + body + "\n" + textwrap.dedent(top_level).strip("\n") + "\n"
