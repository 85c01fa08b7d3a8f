"""`aichor run`: run a local directory's experiment on the local engine. Placeholder."""

from __future__ import annotations

from pathlib import Path

import typer


def run(
    directory: Path = typer.Argument(Path("."), help="Repository to run."),
    manifest: Path = typer.Option(
        Path("aichor_manifests/manifest.yaml"), "--manifest", "-m", help="Manifest path."
    ),
) -> None:
    """Run the experiment of DIRECTORY on this machine."""
    raise NotImplementedError
