"""`aichor vcs install-hook REPO.git`: self-hosted git triggers. A `post-receive` hook in a bare
repository sends every push to the server's `git` webhook, signed with the project's secret,
and the project's repository URL is pointed at that repository so Cloning fetches from it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from aichor.cli.config import make_client
from aichor.cli.vcs_hook import CONFIG_NAME, MARKER, hook_text
from aichor.errors import Conflict, InvalidInput

app = typer.Typer(
    help="Self-hosted git repositories that trigger experiments.", no_args_is_help=True
)


@app.command("install-hook")
def install_hook(
    repository: Annotated[Path, typer.Argument(help="A bare git repository (REPO.git).")],
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            help="The server's URL as seen from the repository's machine "
            "(default: the URL this CLI uses).",
        ),
    ] = None,
    project: Annotated[
        str, typer.Option("--project", "-p", envvar="AICHOR_PROJECT", help="Project name or id.")
    ] = "default",
    force: Annotated[
        bool, typer.Option("--force", help="Replace a post-receive hook that is not aichor's.")
    ] = False,
) -> None:
    """Install the post-receive hook so a plain `git push` triggers experiments."""
    bare = _bare_repository(repository)
    hook = bare / "hooks" / "post-receive"
    if hook.exists() and MARKER not in hook.read_text(errors="replace") and not force:
        raise Conflict(f"{hook} exists and is not aichor's; move it away or pass --force")
    with make_client() as client:
        webhook = client.webhook(project)
        base = (url or client.url).rstrip("/")
        target = f"{base}/api/webhooks/git/{webhook.project_id}"
        current = client.get_project(webhook.project_id).repository_url
        if current != str(bare):
            client.update_project(webhook.project_id, {"repository_url": str(bare)})
            typer.echo(f"project {webhook.project}: repository URL {current or '(none)'} → {bare}")
    hook.parent.mkdir(exist_ok=True)
    _write(hook.parent / CONFIG_NAME, json.dumps({"url": target, "secret": webhook.secret}), 0o600)
    _write(hook, hook_text(sys.executable), 0o755)
    typer.echo(f"installed {hook} → {target}")


def _bare_repository(path: Path) -> Path:
    resolved = path.expanduser().resolve()
    git = shutil.which("git")
    if git is None:
        raise InvalidInput("git is not installed")
    if not resolved.is_dir():
        raise InvalidInput(f"{path} is not a directory", field="repository")
    answer = subprocess.run(  # noqa: S603 - fixed argv, the path is one argument
        [git, "-C", str(resolved), "rev-parse", "--is-bare-repository"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if answer.returncode != 0 or answer.stdout.strip() != "true":
        raise InvalidInput(
            f"{path} is not a bare git repository (create one with `git init --bare`)",
            field="repository",
        )
    return resolved


def _write(path: Path, text: str, mode: int) -> None:
    """Replace `path` atomically, created with `mode` (the secret file is never world-readable)."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.unlink(missing_ok=True)
    with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode), "w") as out:
        out.write(text)
    os.chmod(temporary, mode)
    os.replace(temporary, path)
