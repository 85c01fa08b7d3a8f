"""How the CLI reports: AichorError → one line on stderr and its exit code, never a traceback."""

from __future__ import annotations

import sys

import typer

from aichor.errors import AichorError


def fail(message: str, code: int = 1) -> None:
    """Print `aichor: error: <message>` to stderr and exit with `code`."""
    sys.stderr.write(f"aichor: error: {message}\n")
    raise SystemExit(code)


def run_guarded(app: typer.Typer) -> None:
    """Run the Typer app; translate expected failures into one-line errors."""
    try:
        # Without standalone mode click returns a command's `typer.Exit` code instead of exiting.
        code = app(standalone_mode=False)
    except AichorError as exc:
        fail(exc.message, exc.exit_code)
    except typer.Abort:
        fail("aborted", 130)
    except typer.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except typer.TyperException as exc:
        # Usage errors (unknown command or option, bad value): one line, exit 1.
        fail(_first_line(exc), 1)
    except KeyboardInterrupt:
        fail("interrupted", 130)
    if isinstance(code, int) and code != 0:
        raise SystemExit(code)


def _first_line(exc: Exception) -> str:
    format_message = getattr(exc, "format_message", None)
    text = format_message() if callable(format_message) else str(exc)
    return str(text).strip().splitlines()[0] if str(text).strip() else type(exc).__name__
