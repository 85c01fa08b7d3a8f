"""`aichor experiments …`: submit (a local archive or a commit SHA), list, status, step,
replicas, metrics, logs, cancel, resubmit. Each command parses, makes one client call and
renders (experiment_view.py).

The client (httpx) and the archiver (tarfile) are imported by the commands that use them, so
that `import aichor.cli` stays fast for `aichor run`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from aichor.cli import experiment_view
from aichor.cli.config import make_client
from aichor.errors import InvalidInput

if TYPE_CHECKING:
    from aichor.client import Client
    from aichor.client.views import ExperimentView

app = typer.Typer(
    help="Submit experiments to the aichor server and follow them.", no_args_is_help=True
)
submit_app = typer.Typer(
    help="Submit an experiment (prints JSON with `experiment_id`).", no_args_is_help=True
)
app.add_typer(submit_app, name="submit")

MANIFESTS_DIR = "aichor_manifests"

ProjectOpt = Annotated[
    str,
    typer.Option("--project", "-p", envvar="AICHOR_PROJECT", help="Project name or id."),
]
ManifestOpt = Annotated[
    str,
    typer.Option(
        "--manifest",
        "-m",
        help=f"Manifest path in the repository; a bare file name means {MANIFESTS_DIR}/NAME.",
    ),
]
MessageOpt = Annotated[str | None, typer.Option("--message", help="Experiment message.")]
EngineOpt = Annotated[
    str | None, typer.Option("--engine", help="Engine (default: the project's default).")
]
WatchOpt = Annotated[
    bool, typer.Option("--watch", "-w", help="Follow the steps live until the end.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
IdArg = Annotated[str, typer.Argument(help="Experiment id.")]


def _manifest_path(value: str) -> str:
    """The path the server reads, relative to the repository root (as `aichor run --manifest`).

    A bare file name is looked up in aichor_manifests/, as in `aichor[manifest.yaml]: …` commits.
    """
    path = value.replace("\\", "/").removeprefix("./")
    if not path or path.startswith("/") or ".." in path.split("/"):
        raise InvalidInput(
            f"manifest path {value!r} must be relative and stay inside the repository",
            field="manifest",
        )
    return path if "/" in path else f"{MANIFESTS_DIR}/{path}"


def _emit(payload: Any) -> None:
    typer.echo(json.dumps(payload, indent=2, default=str))


def _submitted(exp: ExperimentView, watch: bool, client: Client) -> None:
    _emit({"experiment_id": exp.experiment_id, "status": exp.status, "project": exp.project})
    sys.stdout.flush()
    if watch:
        experiment_view.watch(client, exp.id)


@submit_app.command("local")
def submit_local(
    directory: Annotated[Path, typer.Argument(help="Working tree to pack.")] = Path("."),
    manifest: ManifestOpt = f"{MANIFESTS_DIR}/manifest.yaml",
    project: ProjectOpt = "default",
    message: MessageOpt = None,
    engine: EngineOpt = None,
    watch: WatchOpt = False,
) -> None:
    """Pack DIRECTORY (uncommitted changes included, .gitignore honoured) and submit it."""
    from aichor.cli.archive import pack_tree  # imported here: tarfile only when packing

    name = _manifest_path(manifest)
    if not (directory / name).is_file():
        raise InvalidInput(f"{directory / name}: no such manifest", field="manifest")
    text = (
        message
        or _last_commit_subject(directory)
        or f"local submission of {directory.resolve().name}"
    )
    archive = pack_tree(directory, on_skip=lambda note: typer.echo(f"skipped {note}", err=True))
    with archive.file, make_client() as client:
        exp = client.submit_archive(
            project, archive.file, manifest_path=name, message=text, engine=engine
        )
        _submitted(exp, watch, client)


def _last_commit_subject(directory: Path) -> str | None:
    try:
        done = subprocess.run(
            ["git", "log", "-1", "--format=%s"],  # noqa: S607 - git from PATH
            cwd=directory,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


@submit_app.command("commit-sha")
def submit_commit(
    sha: Annotated[str, typer.Argument(help="Commit already pushed to the project's repository.")],
    branch: Annotated[
        str | None, typer.Option("--branch", "-b", help="Branch of the commit.")
    ] = None,
    manifest: ManifestOpt = f"{MANIFESTS_DIR}/manifest.yaml",
    project: ProjectOpt = "default",
    message: MessageOpt = None,
    engine: EngineOpt = None,
    watch: WatchOpt = False,
) -> None:
    """Submit a commit of the project's repository; the server clones it."""
    with make_client() as client:
        exp = client.submit_commit(
            project,
            commit_sha=sha,
            branch=branch,
            manifest_path=_manifest_path(manifest),
            message=message,
            engine=engine,
        )
        _submitted(exp, watch, client)


@app.command("list")
def list_experiments(
    project: ProjectOpt = "default",
    status: Annotated[str | None, typer.Option("--status", help="Only this status.")] = None,
    user: Annotated[str | None, typer.Option("--user", help="Only this user's (email).")] = None,
    branch: Annotated[str | None, typer.Option("--branch", help="Only this branch.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500, help="How many.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """The project's experiments, newest first."""
    with make_client() as client:
        page = client.list_experiments(
            project, status=status, user=user, branch=branch, limit=limit
        )
    if as_json:
        _emit(page.model_dump(mode="json"))
    else:
        experiment_view.console().print(experiment_view.experiments_table(page.items))


@app.command()
def status(experiment_id: IdArg, as_json: JsonOpt = False) -> None:
    """An experiment's status, steps and replicas."""
    with make_client() as client:
        exp = client.get_experiment(experiment_id)
    if as_json:
        _emit(exp.model_dump(mode="json"))
    else:
        experiment_view.describe(exp)


@app.command()
def step(experiment_id: IdArg, as_json: JsonOpt = False) -> None:
    """An experiment's steps with their status and times."""
    with make_client() as client:
        exp = client.get_experiment(experiment_id)
    if as_json:
        _emit([s.model_dump(mode="json") for s in exp.steps])
    else:
        experiment_view.console().print(experiment_view.steps_table(exp))


@app.command()
def replicas(experiment_id: IdArg, as_json: JsonOpt = False) -> None:
    """Each replica's state, exit code, restarts and reason; which one failed first."""
    with make_client() as client:
        listed = client.list_replicas(experiment_id)
    if as_json:
        _emit(listed.model_dump(mode="json"))
        return
    out = experiment_view.console()
    if listed.failed_replica:
        out.print(f"[red]failed first[/red] {listed.failed_replica}: {listed.failure_reason}")
    out.print(experiment_view.replicas_table(listed.replicas))


@app.command()
def metrics(
    experiment_id: IdArg,
    replica: Annotated[
        str | None, typer.Option("--replica", "-r", help="Only this replica.")
    ] = None,
    points: Annotated[
        int | None, typer.Option("--points", min=1, help="Downsample to N points per replica.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """CPU (cores), memory and GPU use of each replica: the latest sample, mean and peak."""
    from aichor.cli.telemetry_view import metrics_table

    with make_client() as client:
        name = _replica_name(client, experiment_id, replica) if replica else None
        view = client.read_metrics(experiment_id, replica=name, points=points)
    if as_json:
        _emit(view.model_dump(mode="json"))
    else:
        experiment_view.console().print(metrics_table(view))


@app.command()
def logs(
    experiment_id: IdArg,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing until the end.")
    ] = False,
    replica: Annotated[
        str | None, typer.Option("--replica", "-r", help="Only this replica.")
    ] = None,
    step_name: Annotated[
        str | None, typer.Option("--step", "-s", help="A step's log (Cloning, Building, …).")
    ] = None,
    download: Annotated[
        Path | None,
        typer.Option("--download", "-o", help="Save the whole log to this file instead."),
    ] = None,
) -> None:
    """Print the experiment's logs: every replica interleaved, or one replica's or step's."""
    if replica and step_name:
        raise InvalidInput("--replica and --step are exclusive", field="--step")
    if download and follow:
        raise InvalidInput("--download and --follow are exclusive", field="--download")
    with make_client() as client:
        source = _replica_name(client, experiment_id, replica) if replica else step_name
        if download is None:
            experiment_view.print_logs(client, experiment_id, source=source, follow=follow)
            return
        partial = download.with_name(f".{download.name}.part")
        try:
            with partial.open("wb") as target:
                size = client.download_logs(experiment_id, target, source=source)
            partial.replace(download)
        finally:
            partial.unlink(missing_ok=True)  # an error leaves no half-written file behind
        typer.echo(f"saved {size} bytes to {download}", err=True)


def _replica_name(client: Client, experiment_id: str, replica: str) -> str:
    """`worker-0` stands for `<experiment short name>-worker-0`, as `aichor run` shows it."""
    names = [r.name for r in client.get_experiment(experiment_id).replicas]
    if replica in names:
        return replica
    matches = [name for name in names if name.endswith(f"-{replica}")]
    if len(matches) != 1:
        known = ", ".join(names) or "none yet"
        raise InvalidInput(
            f"no replica {replica!r} in {experiment_id} (replicas: {known})", field="--replica"
        )
    return matches[0]


@app.command()
def cancel(experiment_id: IdArg, as_json: JsonOpt = False) -> None:
    """Cancel an experiment, whatever step it is at."""
    with make_client() as client:
        exp = client.cancel_experiment(experiment_id)
    if as_json:
        _emit(exp.model_dump(mode="json"))
    else:
        typer.echo(f"experiment {exp.id}: {exp.status}")


@app.command()
def resubmit(experiment_id: IdArg, watch: WatchOpt = False) -> None:
    """Run an experiment's source again as a new experiment (prints JSON with `experiment_id`)."""
    with make_client() as client:
        exp = client.resubmit_experiment(experiment_id)
        _submitted(exp, watch, client)
