"""`aichor manifest validate` and `aichor manifest schema`. Placeholder until the manifest work lands."""

from __future__ import annotations

import typer

app = typer.Typer(help="Validate manifests and print their JSON Schema.", no_args_is_help=True)
