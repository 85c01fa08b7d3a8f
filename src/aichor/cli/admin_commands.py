"""`aichor projects`, `aichor engines`, `aichor variables` and `aichor users`: administration
over the REST API (docs/api.md). The server decides who may do what; a 403 is one line here.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer

from aichor.cli.config import make_client
from aichor.errors import InvalidInput

projects_app = typer.Typer(
    help="Projects: repository link, engines, members.", no_args_is_help=True
)
engines_app = typer.Typer(
    help="Engines where experiments run (Infrastructure Admins).", no_args_is_help=True
)
variables_app = typer.Typer(help="A project's experiment variables.", no_args_is_help=True)
users_app = typer.Typer(
    help="Members of the organisation, their roles and invitations.", no_args_is_help=True
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
ProjectOpt = Annotated[
    str, typer.Option("--project", "-p", envvar="AICHOR_PROJECT", help="Project name or id.")
]
EnginesOpt = Annotated[
    list[str] | None, typer.Option("--engine", help="Engine name or id (repeatable).")
]
DefaultEngineOpt = Annotated[
    str | None, typer.Option("--default-engine", help="Engine used when a submit names none.")
]


def render(items: Sequence[Any], columns: Sequence[str], as_json: bool) -> None:
    """A table of `columns` (attribute names), or the full JSON list."""
    if as_json:
        typer.echo(json.dumps([item.model_dump(mode="json") for item in items], indent=2))
        return
    from rich.console import Console  # imported here: Rich only when printing a table
    from rich.table import Table

    table = Table(box=None, header_style="bold")
    for column in columns:
        table.add_column(column.upper(), overflow="fold")
    for item in items:
        table.add_row(*(_cell(getattr(item, column, None)) for column in columns))
    Console(highlight=False).print(table)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "-"
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items()) or "-"
    return str(value)


def _pairs(values: list[str] | None, what: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for value in values or []:
        key, eq, rest = value.partition("=")
        if not eq or not key:
            raise InvalidInput(f"{what} {value!r}: expected KEY=VALUE", field=what)
        result[key] = rest
    return result


def _engine_ids(client: Any, names: list[str] | None) -> list[str] | None:
    """Engine names or ids → ids (the API takes ids)."""
    if names is None:
        return None
    engines = {e.name: e.id for e in client.list_engines()}
    return [engines.get(name, name) for name in names]


def _engine_id(client: Any, name: str | None) -> str | None:
    ids = _engine_ids(client, [name]) if name else None
    return ids[0] if ids else None


# -- projects --------------------------------------------------------------------------------
_PROJECT_COLUMNS = ("name", "id", "repository_url")


@projects_app.command("list")
def projects_list(as_json: JsonOpt = False) -> None:
    """Projects you can see."""
    with make_client() as client:
        render(client.list_projects(), _PROJECT_COLUMNS, as_json)


@projects_app.command("show")
def projects_show(project: Annotated[str, typer.Argument()], as_json: JsonOpt = False) -> None:
    """One project."""
    with make_client() as client:
        render([client.get_project(project)], _PROJECT_COLUMNS, as_json)


@projects_app.command("create")
def projects_create(
    name: Annotated[str, typer.Argument()],
    repository_url: Annotated[str | None, typer.Option("--repository-url")] = None,
    vcs_provider: Annotated[
        str | None, typer.Option("--vcs-provider", help="github, gitlab, …")
    ] = None,
    engine: EnginesOpt = None,
    default_engine: DefaultEngineOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a project (Organization Admins)."""
    with make_client() as client:
        ids = _engine_ids(client, engine) or []
        default = _engine_id(client, default_engine)
        body = {
            "name": name,
            "repository_url": repository_url,
            "vcs_provider": vcs_provider,
            "engine_ids": ids,
            "default_engine_id": default,
        }
        created = client.create_project({k: v for k, v in body.items() if v is not None})
        render([created], _PROJECT_COLUMNS, as_json)


@projects_app.command("update")
def projects_update(
    project: Annotated[str, typer.Argument()],
    repository_url: Annotated[str | None, typer.Option("--repository-url")] = None,
    vcs_provider: Annotated[str | None, typer.Option("--vcs-provider")] = None,
    engine: EnginesOpt = None,
    default_engine: DefaultEngineOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Change a project's repository link or engines."""
    with make_client() as client:
        changes: dict[str, Any] = {
            "repository_url": repository_url,
            "vcs_provider": vcs_provider,
            "engine_ids": _engine_ids(client, engine),
        }
        if default_engine:
            changes["default_engine_id"] = _engine_id(client, default_engine)
        changes = {k: v for k, v in changes.items() if v is not None}
        render([client.update_project(project, changes)], _PROJECT_COLUMNS, as_json)


@projects_app.command("delete")
def projects_delete(project: Annotated[str, typer.Argument()]) -> None:
    """Delete a project."""
    with make_client() as client:
        client.delete_project(project)
    typer.echo(f"project {project} deleted")


@projects_app.command("add-member")
def projects_add_member(project: Annotated[str, typer.Argument()], user_id: str) -> None:
    """Give a user access to a project."""
    with make_client() as client:
        client.add_member(project, user_id)
    typer.echo(f"user {user_id} added to project {project}")


@projects_app.command("remove-member")
def projects_remove_member(project: Annotated[str, typer.Argument()], user_id: str) -> None:
    """Take a user's access to a project away."""
    with make_client() as client:
        client.remove_member(project, user_id)
    typer.echo(f"user {user_id} removed from project {project}")


@projects_app.command("webhook")
def projects_webhook(
    project: Annotated[str, typer.Argument()],
    rotate: Annotated[
        bool, typer.Option("--rotate", help="Make a new secret; the old one stops working.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """The webhook URL of each provider and the secret to paste into it (Organization Admins)."""
    with make_client() as client:
        view = client.webhook(project, rotate=rotate)
    if as_json:
        typer.echo(view.model_dump_json(indent=2))
        return
    typer.echo(f"secret: {view.secret}")
    for provider, url in view.urls.items():
        typer.echo(f"{provider:<10} {url}")


# -- engines ---------------------------------------------------------------------------------
_ENGINE_COLUMNS = ("id", "name", "kind", "cpus", "memory_gib", "gpus")


@engines_app.command("list")
def engines_list(as_json: JsonOpt = False) -> None:
    """Engines of the organisation."""
    with make_client() as client:
        render(client.list_engines(), _ENGINE_COLUMNS, as_json)


@engines_app.command("show")
def engines_show(engine: Annotated[str, typer.Argument()], as_json: JsonOpt = False) -> None:
    """One engine."""
    with make_client() as client:
        render([client.get_engine(engine)], (*_ENGINE_COLUMNS, "settings"), as_json)


GpuOpt = Annotated[list[str] | None, typer.Option("--gpu", help="PRODUCT=COUNT (repeatable).")]
SettingOpt = Annotated[list[str] | None, typer.Option("--setting", help="KEY=VALUE (repeatable).")]


def _engine_body(
    cpus: float | None, memory_gib: float | None, gpu: list[str] | None, setting: list[str] | None
) -> dict[str, Any]:
    body: dict[str, Any] = {"cpus": cpus, "memory_gib": memory_gib}
    if gpu is not None:
        try:
            body["gpus"] = {k: int(v) for k, v in _pairs(gpu, "--gpu").items()}
        except ValueError:
            raise InvalidInput("--gpu: COUNT must be an integer", field="--gpu") from None
    if setting is not None:
        body["settings"] = _pairs(setting, "--setting")
    return {k: v for k, v in body.items() if v is not None}


@engines_app.command("create")
def engines_create(
    name: Annotated[str, typer.Argument()],
    kind: Annotated[str, typer.Option("--kind", help="Engine type.")] = "local",
    cpus: Annotated[float | None, typer.Option("--cpus", min=0)] = None,
    memory_gib: Annotated[float | None, typer.Option("--memory-gib", min=0)] = None,
    gpu: GpuOpt = None,
    setting: SettingOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Register an engine (Infrastructure Admins)."""
    body = {"name": name, "kind": kind, **_engine_body(cpus, memory_gib, gpu, setting)}
    with make_client() as client:
        render([client.create_engine(body)], _ENGINE_COLUMNS, as_json)


@engines_app.command("update")
def engines_update(
    engine: Annotated[str, typer.Argument()],
    cpus: Annotated[float | None, typer.Option("--cpus", min=0)] = None,
    memory_gib: Annotated[float | None, typer.Option("--memory-gib", min=0)] = None,
    gpu: GpuOpt = None,
    setting: SettingOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Change an engine's capacity or settings."""
    with make_client() as client:
        updated = client.update_engine(engine, _engine_body(cpus, memory_gib, gpu, setting))
        render([updated], _ENGINE_COLUMNS, as_json)


@engines_app.command("delete")
def engines_delete(engine: Annotated[str, typer.Argument()]) -> None:
    """Remove an engine."""
    with make_client() as client:
        client.delete_engine(engine)
    typer.echo(f"engine {engine} deleted")


# -- variables -------------------------------------------------------------------------------
_VARIABLE_COLUMNS = ("id", "name", "kind", "sensitive", "value")


@variables_app.command("list")
def variables_list(project: ProjectOpt = "default", as_json: JsonOpt = False) -> None:
    """A project's variables; sensitive values are never shown."""
    with make_client() as client:
        render(client.list_variables(project), _VARIABLE_COLUMNS, as_json)


@variables_app.command("set")
def variables_set(
    name: Annotated[str, typer.Argument()],
    value: Annotated[str, typer.Argument(help="The value, or - to read it from standard input.")],
    project: ProjectOpt = "default",
    kind: Annotated[str, typer.Option("--kind", help="runtime or build.")] = "runtime",
    sensitive: Annotated[bool, typer.Option("--sensitive", help="Encrypted, never shown.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Create a variable."""
    if kind not in ("runtime", "build"):
        raise InvalidInput(f"--kind {kind!r}: expected runtime or build", field="--kind")
    text = sys.stdin.read().rstrip("\n") if value == "-" else value
    with make_client() as client:
        created = client.create_variable(
            project, name=name, value=text, kind=kind, sensitive=sensitive
        )
        render([created], _VARIABLE_COLUMNS, as_json)


@variables_app.command("delete")
def variables_delete(
    variable_id: Annotated[str, typer.Argument()], project: ProjectOpt = "default"
) -> None:
    """Delete a variable by id."""
    with make_client() as client:
        client.delete_variable(project, variable_id)
    typer.echo(f"variable {variable_id} deleted")


# -- users -------------------------------------------------------------------------------------
@users_app.command("list")
def users_list(as_json: JsonOpt = False) -> None:
    """Members of the organisation with their roles."""
    with make_client() as client:
        render(client.list_users(), ("id", "email", "name", "roles"), as_json)


@users_app.command("set-roles")
def users_set_roles(
    user_id: Annotated[str, typer.Argument()],
    roles: Annotated[list[str], typer.Argument(help="User, OrganizationAdmin, …")],
    as_json: JsonOpt = False,
) -> None:
    """Replace a member's roles."""
    with make_client() as client:
        render([client.set_roles(user_id, roles)], ("id", "email", "roles"), as_json)


@users_app.command("invite")
def users_invite(
    email: Annotated[str, typer.Argument()],
    role: Annotated[list[str] | None, typer.Option("--role", help="Role (repeatable).")] = None,
    project: Annotated[list[str] | None, typer.Option("--project", help="Project id.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Invite someone; prints the link (also e-mailed when SMTP is configured)."""
    with make_client() as client:
        invitation = client.invite(email, role or ["User"], project or [])
        render([invitation], ("id", "email", "link", "expires_at"), as_json)


@users_app.command("invitations")
def users_invitations(as_json: JsonOpt = False) -> None:
    """Pending invitations."""
    with make_client() as client:
        render(client.list_invitations(), ("id", "email", "roles", "expires_at"), as_json)
