"""Command-line interface: Typer app; one module per command group.

Handed argv; prints with Rich. `aichor run` uses aichor.runner; server commands use HTTP through
aichor.client, imported lazily (cli/config.make_client) so `aichor run` never loads httpx.
May import: aichor.client, aichor.runner, aichor.manifest, aichor.errors.
"""

from __future__ import annotations

import typer

from aichor.cli import (
    admin_commands,
    demo_command,
    experiments_commands,
    local_repo,
    login_commands,
    manifest_commands,
    run_command,
    server_commands,
    storage_commands,
    vcs_commands,
)
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
app.command(name="login")(login_commands.login)
app.command(name="logout")(login_commands.logout)
app.command(name="whoami")(login_commands.whoami)
app.add_typer(experiments_commands.app, name="experiments")
app.add_typer(admin_commands.projects_app, name="projects")
app.add_typer(admin_commands.engines_app, name="engines")
app.add_typer(admin_commands.variables_app, name="variables")
app.add_typer(admin_commands.users_app, name="users")
app.add_typer(storage_commands.app, name="storage")
app.add_typer(local_repo.app, name="local-repo")
app.add_typer(vcs_commands.app, name="vcs")
app.command(name="demo")(demo_command.demo)


def main() -> None:
    """Console-script entry point: errors become one line on stderr and a non-zero exit."""
    run_guarded(app)
