"""The dashboard: server-rendered pages (Jinja2, htmx for the live parts) over the services.

Handed the FastAPI app by `aichor.app.create_app`; pages call `aichor.services` directly (never
the REST API over HTTP) and reuse the API's browser session and CSRF (`aichor.api.deps`).
May import: aichor.api.deps and api.error_handlers, aichor.services, aichor.schemas, below.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from aichor.web import (
    account_pages,
    admin_pages,
    errors,
    experiment_pages,
    storage_pages,
    terminal,
)

STATIC = Path(__file__).parent / "static"
"""Hand-written CSS, plus `build/`: the npm bundle `make setup` writes (not committed)."""


def install(app: FastAPI) -> None:
    """Mount the pages, the websocket, the static files and the HTML error pages."""
    app.mount("/static", StaticFiles(directory=STATIC, check_dir=False), name="static")
    for router in (
        account_pages.router,
        experiment_pages.router,
        admin_pages.router,
        storage_pages.router,
        terminal.router,
    ):
        app.include_router(router)
    errors.install(app)
