"""`aichor login`, `aichor logout` and `aichor whoami`: the API token the other commands use."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from aichor.cli.config import Config, load_config, make_client, save_config
from aichor.errors import AichorError, InvalidInput


def login(
    url: Annotated[
        str | None,
        typer.Option("--url", help="Server URL (default: the stored one, or AICHOR_URL)."),
    ] = None,
    email: Annotated[str | None, typer.Option("--email", help="Your account's email.")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    organisation: Annotated[
        str | None,
        typer.Option("--organisation", help="Organisation to log in to, if you belong to several."),
    ] = None,
) -> None:
    """Log in with email and password; the API token is stored in your config dir (mode 0600)."""
    server = (url or load_config().url).rstrip("/")
    address = email or typer.prompt("Email")
    password = _read_password(password_stdin)
    with make_client(require_token=False, url=server) as client:
        result = client.login(address, password, organisation)
    path = save_config(
        Config(
            url=server,
            token=result.token,
            email=result.user.email,
            organisation=result.organisation.name,
        )
    )
    typer.echo(
        f"Logged in to {server} as {result.user.email} "
        f"(organisation {result.organisation.name}); token stored in {path}"
    )


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True)
    if not password:
        raise InvalidInput("empty password", field="password")
    return password


def logout() -> None:
    """Revoke the stored token on the server and forget it locally."""
    config = load_config()
    if not config.token:
        typer.echo("Not logged in.")
        return
    note = ""
    try:
        with make_client() as client:
            client.logout()
    except AichorError as exc:  # forget the token anyway: logging out must always work locally
        note = f" (the server was not told: {exc.message})"
    save_config(Config(url=config.url, email=config.email))
    typer.echo(f"Logged out of {config.url}{note}")


def whoami(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the logged-in user, organisation and roles."""
    with make_client() as client:
        me = client.me()
    if as_json:
        typer.echo(json.dumps(me.model_dump(mode="json"), indent=2))
        return
    roles = ", ".join(me.roles) or "no role"
    typer.echo(f"{me.email} in {me.organisation.name} ({roles}) at {client.url}")
