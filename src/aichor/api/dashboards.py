"""/api/experiments/{id}/tensorboard/... and /ray-dashboard/...: the experiment's dashboards,
reverse-proxied with the platform's auth (bearer token or session cookie) and the same access
check as reading the experiment. Not in the OpenAPI schema: they answer whatever the dashboard
answers. The TensorBoard is started on the first request (`app.state.tensorboards`).
"""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse

from aichor.api.deps import (
    ANGULAR_CSRF_COOKIE,
    SESSION_COOKIE,
    UnitOfWork,
    get_settings,
)
from aichor.dashboards.proxy import DashboardProxy
from aichor.dashboards.tensorboard import TensorBoards
from aichor.services import dashboards, tokens

router = APIRouter(tags=["dashboards"])
_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]


@router.get("/api/experiments/{experiment_id}/tensorboard", include_in_schema=False)
def tensorboard_root(experiment_id: str) -> RedirectResponse:
    """TensorBoard's pages use relative links: they must be loaded from the folder path."""
    return RedirectResponse(f"{dashboards.tensorboard_path(experiment_id)}/")


@router.api_route(
    "/api/experiments/{experiment_id}/tensorboard/{path:path}",
    methods=_METHODS,
    include_in_schema=False,
)
async def tensorboard(experiment_id: str, path: str, request: Request) -> Response:
    settings = get_settings(request)
    target = await UnitOfWork(request).run(
        partial(dashboards.tensorboard_target, experiment_id=experiment_id, settings=settings)
    )
    running: TensorBoards = request.app.state.tensorboards
    base = await run_in_threadpool(running.url_for, target)
    response = await _proxy(request).forward(request, base, path)
    session_token = request.cookies.get(SESSION_COOKIE)
    if session_token and ANGULAR_CSRF_COOKIE not in request.cookies:
        # TensorBoard's Angular client echoes this cookie in X-XSRF-TOKEN on its POSTs.
        token = tokens.csrf_token(settings.secret(), session_token)
        response.set_cookie(
            ANGULAR_CSRF_COOKIE, token, path=f"{target.path_prefix}/", samesite="strict"
        )
    return response


@router.get("/api/experiments/{experiment_id}/ray-dashboard", include_in_schema=False)
def ray_dashboard_root(experiment_id: str) -> RedirectResponse:
    return RedirectResponse(f"{dashboards.ray_dashboard_path(experiment_id)}/")


@router.api_route(
    "/api/experiments/{experiment_id}/ray-dashboard/{path:path}",
    methods=_METHODS,
    include_in_schema=False,
)
async def ray_dashboard(experiment_id: str, path: str, request: Request) -> Response:
    upstream = await UnitOfWork(request).run(
        partial(
            dashboards.ray_dashboard_upstream,
            experiment_id=experiment_id,
            settings=get_settings(request),
        )
    )
    mount = dashboards.ray_dashboard_path(experiment_id)
    return await _proxy(request).forward(request, upstream, path, mount=mount)


def _proxy(request: Request) -> DashboardProxy:
    proxy: DashboardProxy = request.app.state.dashboard_proxy
    return proxy
