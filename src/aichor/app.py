"""The server: `create_app(settings)` builds the FastAPI app from the api routers.

On start (lifespan) the database is upgraded, the embedded defaults are created on first start
(the generated admin password is printed once), and the pipeline workers start in this process
(`settings.workers` threads; none when 0), with the log purge (`services.log_retention`),
as do the embedded S3 endpoints of the local buckets. When it stops, the TensorBoards it
started stop too. `aichor server` runs it with uvicorn.
"""

from __future__ import annotations

import gc
import logging
import sys
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from aichor import __version__
from aichor.api import error_handlers
from aichor.api.routes import all_routers
from aichor.dashboards.proxy import DashboardProxy
from aichor.dashboards.tensorboard import TensorBoards
from aichor.db.migrate import upgrade_database
from aichor.db.session import make_engine, session
from aichor.pipeline import reconciler
from aichor.services.bootstrap import FirstAdmin, bootstrap
from aichor.services.log_retention import LogPurger
from aichor.settings import Settings
from aichor.storage.buckets import is_local
from aichor.storage.s3_server import S3Endpoints
from aichor.web import install as install_web

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The REST API (OpenAPI at /api/openapi.json) and the dashboard; `settings` default to
    the environment."""
    settings = settings or Settings.from_env()
    app = FastAPI(
        title="aichor",
        version=__version__,
        lifespan=_lifespan,
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.db_engine = make_engine(settings)
    app.state.tensorboards = TensorBoards(idle_seconds=settings.tensorboard_idle_seconds)
    app.state.dashboard_proxy = DashboardProxy()
    error_handlers.install(app)
    for router in all_routers():
        app.include_router(router)
    install_web(app)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    prepare_database(settings)
    endpoints = _storage_endpoints(app, settings)
    workers = reconciler.start(settings)
    purger = LogPurger(settings).start()
    _freeze_startup_objects()
    try:
        yield
    finally:
        gc.unfreeze()  # collectable again (an app started and stopped in a test process)
        purger.stop()
        workers.stop()
        app.state.tensorboards.close()
        await app.state.dashboard_proxy.aclose()
        if endpoints is not None:
            endpoints.stop()


def _freeze_startup_objects() -> None:
    """Keep what start-up built (modules, the app, SQLAlchemy and pydantic machinery: some
    200,000 objects) out of the garbage collector's full passes (decision 136). Each full pass
    walked them all, 150-210 ms on this machine every ~75 list pages: the requests' p99
    (decisions 081 and 136 both found it)."""
    gc.collect()
    gc.freeze()


def _storage_endpoints(app: FastAPI, settings: Settings) -> S3Endpoints | None:
    """The embedded S3 endpoints of the local buckets (none with an external S3 store)."""
    if not is_local(settings) or not settings.storage_serve:
        return None
    endpoints = S3Endpoints(settings, app.state.db_engine).start()
    app.state.s3_endpoints = endpoints
    return endpoints


def prepare_database(settings: Settings) -> FirstAdmin | None:
    """Upgrade the schema and create the embedded defaults on first start (both idempotent)."""
    upgrade_database(settings)
    with session(make_engine(settings)) as db:
        first = bootstrap(db, settings)
    if first is not None:
        _announce(first)
    return first


def _announce(first: FirstAdmin) -> None:
    if first.generated_password is None:
        log.warning("created the first admin %s (password from AICHOR_ADMIN_PASSWORD)", first.email)
        return
    print(
        f"First admin created: {first.email}\n"
        f"  password: {first.generated_password}\n"
        "  (shown once; set AICHOR_ADMIN_EMAIL/AICHOR_ADMIN_PASSWORD to choose them)",
        file=sys.stderr,
        flush=True,
    )


def run_workers(settings: Settings, stop: threading.Event) -> None:
    """`aichor worker`: pipeline threads only, against the server's database, until `stop`."""
    upgrade_database(settings)
    workers = reconciler.start(settings)
    try:
        stop.wait()
    finally:
        workers.stop()
