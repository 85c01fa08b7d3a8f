"""How the CLI reports: AichorError → one line on stderr and its exit code, never a traceback."""

from __future__ import annotations

import sys

import click
import typer

from aichor.errors import AichorError


def fail(message: str, code: int = 1) -> None:
    """Print `aichor: error: <message>` to stderr and exit with `code`."""
    sys.stderr.write(f"aichor: error: {message}\n")
    raise SystemExit(code)


def run_guarded(app: typer.Typer) -> None:
    """Run the Typer app; translate expected failures into one-line errors."""
    try:
        app(standalone_mode=False)
    except AichorError as exc:
        fail(exc.message, exc.exit_code)
    except click.exceptions.Abort:
        fail("aborted", 130)
    except click.exceptions.NoSuchOption as exc:
        fail(exc.format_message(), 1)
    except click.exceptions.UsageError as exc:
        fail(exc.format_message(), 1)
    except click.exceptions.ClickException as exc:
        fail(exc.format_message(), exc.exit_code)
    except click.exceptions.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except KeyboardInterrupt:
        fail("interrupted", 130)
