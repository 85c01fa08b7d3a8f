"""`aichor server` (API + pipeline workers in one process) and `aichor worker` (workers only).

These two commands run the control plane itself, so they import aichor.app (an exception to
"the CLI reaches the server only over HTTP", declared in pyproject's import contracts). The
import sits inside the command so that other commands (`aichor run`) start without loading
FastAPI, SQLAlchemy and the pipeline.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    import uvicorn


def server(
    host: Annotated[str | None, typer.Option(help="Bind address (AICHOR_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (AICHOR_PORT).")] = None,
    processes: Annotated[
        int,
        typer.Option(
            min=1,
            envvar="AICHOR_PROCESSES",
            help="API processes sharing the port, each with its own pipeline workers "
            "(AICHOR_PROCESSES); about one per core.",
        ),
    ] = 1,
) -> None:
    """Run the control plane: REST API and pipeline workers, upgrading the database first.

    With several processes the database is upgraded (and the defaults created) once, here,
    before they start; their pipeline workers then share the experiments through claim leases,
    exactly like `aichor worker` processes do.
    """
    if host:
        os.environ["AICHOR_HOST"] = host
    if port:
        os.environ["AICHOR_PORT"] = str(port)
    from aichor.settings import Settings  # pydantic-settings: only the server pays for it

    settings = Settings.from_env()
    typer.echo(f"aichor server on {settings.public_url} (API docs: {settings.public_url}/api/docs)")
    typer.echo(f"database: {_redacted(settings.database_url)}; home: {settings.home}")
    import uvicorn

    if processes > 1:
        from aichor.app import prepare_database

        prepare_database(settings)
        settings.secret()  # generated before the processes start, so they all read the same
    # loop/http "auto" pick uvloop and httptools, which are dependencies: about 0.7 ms less CPU
    # per request than asyncio's loop and h11 (docs/decisions/081-submission-throughput.md).
    config = uvicorn.Config(
        "aichor.app:create_app",
        factory=True,
        loop="auto",
        http="auto",
        host=settings.host,
        port=settings.port,
        log_level="info",
        workers=processes,
    )
    _serve(config)


def _serve(config: uvicorn.Config) -> None:
    """What `uvicorn.run` does, with the port held from the start: uvicorn would bind it only
    after the application's start-up, which already starts processes on free ports (the
    projects' S3 endpoints), and one could take the API's port meanwhile. Listening at once
    also makes a taken port fail before any start-up work."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    sock = config.bind_socket()
    sock.listen(config.backlog)
    if config.workers > 1:
        Multiprocess(config, sockets=[sock]).run()
        return
    config.load_app()
    server = uvicorn.Server(config)
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=[sock])
    if not server.started:
        raise SystemExit(3)  # uvicorn's STARTUP_FAILURE


def worker() -> None:
    """Run pipeline workers only (AICHOR_WORKERS threads) against the server's database."""
    from aichor.app import run_workers
    from aichor.settings import Settings

    settings = Settings.from_env()
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    typer.echo(f"aichor worker: {settings.workers} thread(s) on {_redacted(settings.database_url)}")
    run_workers(settings, stop)


def _redacted(url: str) -> str:
    """The database URL without its password."""
    scheme, sep, rest = url.partition("://")
    credentials, at, location = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    return f"{scheme}{sep}{credentials.split(':', 1)[0]}:***@{location}"
