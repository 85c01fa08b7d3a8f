"""`aichor storage ls/cp/rm/uri/keys`: a project's buckets over the REST API (docs/cli.md).

A remote path is `s3://BUCKET/KEY` (the URI the API and the replicas' `AICHOR_*_PATH` show) or
`input:KEY` / `output:KEY` (the bucket by its kind, decision 102); anything else is a local
path (write `./input:x` for a local file whose name has a colon). Each command parses, makes
one or two client calls and prints.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from aichor.cli.admin_commands import JsonOpt, ProjectOpt, render
from aichor.cli.config import make_client
from aichor.errors import InvalidInput

if TYPE_CHECKING:
    from aichor.client import Client

app = typer.Typer(
    help="The project's input and output buckets: list, copy, remove objects; access keys.",
    no_args_is_help=True,
)
KINDS = ("input", "output")


@dataclass(frozen=True)
class Remote:
    bucket: str
    """`input`, `output` or a full bucket name (the server accepts each)."""
    key: str


def parse_remote(text: str) -> Remote | None:
    """The bucket and key of a remote path, or None for a local path."""
    if text.startswith("s3://"):
        bucket, _, key = text.removeprefix("s3://").partition("/")
        if not bucket:
            raise InvalidInput(f"{text!r} names no bucket: use s3://BUCKET/KEY", field="path")
        return Remote(bucket, key)
    kind, colon, key = text.partition(":")
    if colon and kind in KINDS:
        return Remote(kind, key)
    return None


def _remote(text: str) -> Remote:
    remote = parse_remote(text)
    if remote is None:
        raise InvalidInput(
            f"{text!r} is not a bucket path: use s3://BUCKET/KEY, input:KEY or output:KEY",
            field="path",
        )
    return remote


@app.command("ls")
def list_objects(
    path: Annotated[
        str | None, typer.Argument(help="Bucket path or prefix (default: both buckets).")
    ] = None,
    project: ProjectOpt = "default",
    as_json: JsonOpt = False,
) -> None:
    """List objects (key, size, modified, URI) under a prefix."""
    targets = [_remote(path)] if path else [Remote(kind, "") for kind in KINDS]
    with make_client() as client:
        found = [o for t in targets for o in client.list_objects(project, t.bucket, t.key)]
    render(found, ("uri", "size", "modified"), as_json)


@app.command("cp")
def copy(
    source: Annotated[str, typer.Argument(help="Local file or bucket path.")],
    target: Annotated[str, typer.Argument(help="Bucket path or local file/folder.")],
    project: ProjectOpt = "default",
) -> None:
    """Upload a local file to a bucket, or download an object; prints the object's URI."""
    src, dst = parse_remote(source), parse_remote(target)
    with make_client() as client:
        if src is None and dst is not None:
            uri = _upload(client, project, Path(source), dst)
        elif src is not None and dst is None:
            uri = _download(client, project, src, Path(target))
        else:
            raise InvalidInput(
                "cp copies between a local file and a bucket: exactly one side must be "
                "s3://BUCKET/KEY, input:KEY or output:KEY",
                field="target",
            )
    typer.echo(uri)


def _upload(client: Client, project: str, source: Path, target: Remote) -> str:
    if not source.is_file():
        raise InvalidInput(f"{source} is not a file (cp copies one file)", field="source")
    key = target.key
    if not key or key.endswith("/"):
        key += source.name
    return client.upload_object(project, target.bucket, key, source).uri


def _download(client: Client, project: str, source: Remote, target: Path) -> str:
    if not source.key or source.key.endswith("/"):
        raise InvalidInput(f"{source.key!r} names no object (cp copies one file)", field="source")
    if target.is_dir():
        target = target / source.key.rsplit("/", 1)[-1]
    client.download_object(project, source.bucket, source.key, target)
    return str(target)


@app.command("rm")
def remove(
    path: Annotated[str, typer.Argument(help="Bucket path of one object.")],
    project: ProjectOpt = "default",
) -> None:
    """Delete one object."""
    remote = _remote(path)
    with make_client() as client:
        client.delete_object(project, remote.bucket, remote.key)
    typer.echo(f"removed {path}")


@app.command("uri")
def uri(
    path: Annotated[str, typer.Argument(help="Bucket path of one object.")],
    project: ProjectOpt = "default",
) -> None:
    """Print the object's `s3://BUCKET/KEY` URI (the path to use in code)."""
    remote = _remote(path)
    with make_client() as client:
        found = client.list_objects(project, remote.bucket, remote.key)
    exact = [o for o in found if o.key == remote.key]
    if not exact:
        raise InvalidInput(f"no object {remote.key!r} in bucket {remote.bucket}", field="path")
    typer.echo(exact[0].uri)


@app.command("keys")
def keys(
    new: Annotated[
        bool, typer.Option("--new", help="Issue a new key (the previous one stops working).")
    ] = False,
    project: ProjectOpt = "default",
    as_json: JsonOpt = False,
) -> None:
    """The project's S3 endpoint and access key; `--new` issues a key (secret shown once)."""
    with make_client() as client:
        info = client.get_storage(project)
        created = client.issue_storage_key(project) if new else None
    if as_json:
        payload = info.model_dump(mode="json")
        if created is not None:
            payload.update(created.model_dump(mode="json"))
        typer.echo(json.dumps(payload, indent=2))
        return
    endpoint = (created.endpoint_url if created else None) or info.endpoint_url or "(not running)"
    typer.echo(f"endpoint:  {endpoint}")
    for bucket in info.buckets:
        typer.echo(f"{bucket.kind + ':':<10} {bucket.uri}")
    if created is not None:
        typer.echo(f"AWS_ACCESS_KEY_ID={created.access_key_id}")
        typer.echo(f"AWS_SECRET_ACCESS_KEY={created.secret_access_key}")
        typer.echo("(the secret is shown once: store it now)")
    elif info.access_key_id:
        typer.echo(f"AWS_ACCESS_KEY_ID={info.access_key_id}  (secret shown when issued)")
    else:
        typer.echo("no access key yet: run `aichor storage keys --new`")
