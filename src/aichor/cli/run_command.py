"""`aichor run [DIR] [--manifest PATH]`: run a local repository's experiment on this machine."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from aichor.cli.run_plain import PlainView
from aichor.home import AichorHome
from aichor.lifecycle import ExperimentStatus
from aichor.runner import LocalRun, run_local

if TYPE_CHECKING:
    from aichor.cli.run_view import LiveView

_CANCELLED_EXIT = 130


def run(
    directory: Annotated[Path, typer.Argument(help="Repository holding aichor_manifests/.")] = Path(
        "."
    ),
    manifest: Annotated[
        Path, typer.Option("--manifest", "-m", help="Manifest to run, relative to DIRECTORY.")
    ] = Path("aichor_manifests/manifest.yaml"),
    message: Annotated[
        str | None,
        typer.Option("--message", help="Experiment message (default: the last commit's subject)."),
    ] = None,
) -> None:
    """Build and run the experiment of DIRECTORY on this machine; exit with its exit code."""
    with _view() as view:
        outcome = run_local(
            LocalRun(repo_dir=directory, manifest_path=manifest, message=message),
            AichorHome.from_env(),
            view,
        )
    if outcome.status == ExperimentStatus.SUCCEEDED:
        return
    typer.echo(f"aichor: experiment {outcome.status.value}: {outcome.reason}", err=True)
    if outcome.status == ExperimentStatus.CANCELLED:
        raise typer.Exit(_CANCELLED_EXIT)
    raise typer.Exit(outcome.exit_code or 1)


def _view() -> PlainView | LiveView:
    """Rich's live panel on a terminal; plain lines elsewhere, without importing Rich at all."""
    if not sys.stdout.isatty():
        return PlainView()
    # Imported here on purpose: Rich costs ~40 ms of start-up that pipes and CI never need.
    from aichor.cli.run_view import LiveView

    return LiveView()
