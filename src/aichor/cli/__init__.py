"""Command-line interface: Typer app; one module per command group.

Handed argv; prints with Rich. `aichor run` uses aichor.runner; server commands (later) use HTTP.
May import: aichor.runner, aichor.manifest, aichor.errors.
"""

from __future__ import annotations

import typer

from aichor.cli import manifest_commands, run_command
from aichor.cli import server_commands
from aichor.cli.output import run_guarded

app = typer.Typer(
    name="aichor",
    help="Run machine-learning experiments described by AIchor manifests.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(manifest_commands.app, name="manifest")
app.command(name="run")(run_command.run)
app.command(name="server")(server_commands.server)
app.command(name="worker")(server_commands.worker)


def main() -> None:
    """Console-script entry point: errors become one line on stderr and a non-zero exit."""
    run_guarded(app)
