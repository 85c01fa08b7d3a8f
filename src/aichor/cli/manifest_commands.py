"""`aichor manifest validate` and `aichor manifest schema`: offline, no server needed."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path

import typer

from aichor.errors import InvalidInput
from aichor.manifest import ManifestInvalid, load_manifest_file
from aichor.manifest.json_schema import manifest_json_schema
from aichor.manifest.reference import render_markdown

app = typer.Typer(help="Validate manifests and print their JSON Schema.", no_args_is_help=True)


class SchemaFormat(StrEnum):
    """What `aichor manifest schema` prints."""

    JSON = "json"
    MARKDOWN = "markdown"


@app.command()
def validate(
    paths: list[Path] = typer.Argument(..., help="Manifest files to check."),  # noqa: B008
) -> None:
    """Check manifests; print `PATH: ok (operator, N replicas)` or every problem, one per line."""
    invalid = 0
    for path in paths:
        try:
            manifest = load_manifest_file(path)
        except ManifestInvalid as exc:
            invalid += 1
            typer.echo(exc.message, err=True)
            continue
        spec = manifest.spec
        count = spec.replica_count()
        typer.echo(f"{path}: ok ({spec.operator}, {count} replica{'s' if count != 1 else ''})")
    if invalid:
        raise InvalidInput(f"{invalid} of {len(paths)} manifest(s) invalid")


@app.command()
def schema(
    output: Path | None = typer.Option(  # noqa: B008
        None, "--output", "-o", help="Write to this file instead of stdout."
    ),
    fmt: SchemaFormat = typer.Option(  # noqa: B008
        SchemaFormat.JSON, "--format", help="json (JSON Schema 2020-12) or markdown (reference)."
    ),
) -> None:
    """Print the manifest JSON Schema, for a `# yaml-language-server: $schema=` line."""
    if fmt is SchemaFormat.MARKDOWN:
        text = render_markdown()
    else:
        text = json.dumps(manifest_json_schema(), indent=2, ensure_ascii=False) + "\n"
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"{output}: cannot write: {exc.strerror or exc}") from None
