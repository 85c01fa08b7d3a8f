"""The experiments list (live rows, filters, keyset pages) and the experiment page (steps,
logs, replicas, terminal, manifest and source; cancel and resubmit)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from aichor.api.experiments import log_file_response
from aichor.services import dashboard, experiments, logs, telemetry
from aichor.web.deps import CheckedPage, Page, PageContext, in_page
from aichor.web.templating import render

router = APIRouter(include_in_schema=False)
TABS = ("steps", "logs", "replicas", "terminal", "metrics", "manifest")


@router.get("/")
def home() -> Response:
    return RedirectResponse("/experiments", status_code=303)


@dataclass(frozen=True)
class ListQuery:
    project: str | None
    engine: str | None
    filters: dashboard.Filters


async def list_query(
    project: str | None = None,
    engine: str | None = None,
    status: str | None = None,
    user: str | None = None,
    branch: str | None = None,
    cursor: str | None = None,
) -> ListQuery:
    """The list's query string (async: parsed on the event loop, no thread hop)."""
    filters = dashboard.Filters(status=status, user=user, branch=branch, cursor=cursor)
    return ListQuery(project, engine, filters)


Listing = Annotated[ListQuery, Depends(list_query)]


def _list_page(page: PageContext, *, query: ListQuery, template: str, full: bool) -> Response:
    found = dashboard.experiments_page(
        page.db,
        page.actor,
        project=query.project,
        engine=query.engine,
        filters=query.filters,
        with_submitters=full,
    )
    return render(
        page, template, found=found, query=page.request.url.query, cursor=query.filters.cursor
    )


@router.get("/experiments")
async def experiments_list(request: Request, query: Listing) -> Response:
    """Project and engine dropdowns, filters, one page of experiments."""
    call = partial(_list_page, query=query, template="experiments.html", full=True)
    return await in_page(request, call)


@router.get("/experiments/rows")
async def experiments_rows(request: Request, query: Listing) -> Response:
    """The table body alone: what the list polls to stay live."""
    call = partial(_list_page, query=query, template="_experiment_rows.html", full=False)
    return await in_page(request, call)


def _experiment_page(page: PageContext, *, experiment_id: str, tab: str, template: str) -> Response:
    settings = page.settings if tab == "manifest" else None  # the archive is read for it only
    detail = dashboard.experiment_detail(page.db, page.actor, experiment_id, settings=settings)
    return render(page, template, detail=detail, tab=tab, tabs=TABS)


@router.get("/experiments/{experiment_id}")
async def experiment(request: Request, experiment_id: str, tab: str = "steps") -> Response:
    tab = tab if tab in TABS else "steps"
    call = partial(
        _experiment_page, experiment_id=experiment_id, tab=tab, template="experiment.html"
    )
    return await in_page(request, call)


@router.get("/experiments/{experiment_id}/live")
async def experiment_live(request: Request, experiment_id: str, tab: str = "steps") -> Response:
    """The parts of the experiment page that change: header, steps, replicas."""
    call = partial(
        _experiment_page, experiment_id=experiment_id, tab=tab, template="_experiment_live.html"
    )
    return await in_page(request, call)


@router.get("/experiments/{experiment_id}/logs/lines")
def log_lines(
    experiment_id: str,
    page: Page,
    source: str | None = None,
    after: Annotated[int | None, Query(ge=0)] = None,
    before: Annotated[int | None, Query(ge=0)] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> Response:
    """A window of lines as JSON for the log viewer: from `after`, up to `before`, or the
    tail. The viewer follows the tail on the API's SSE stream (decision 134)."""
    found = logs.read_window(
        page.db,
        page.actor,
        experiment_id,
        settings=page.settings,
        source=source or None,
        after=after,
        before=before,
        limit=limit,
    )
    body = json.dumps(found.as_json(), separators=(",", ":"), ensure_ascii=False)
    return Response(body, media_type="application/json")


@router.get("/experiments/{experiment_id}/metrics.json")
def metrics(
    experiment_id: str, page: Page, points: Annotated[int, Query(ge=10, le=2000)] = 300
) -> Response:
    """Each replica's CPU, memory and GPU series, downsampled for the Metrics tab's charts."""
    found = telemetry.read_metrics(
        page.db, page.actor, experiment_id, settings=page.settings, points=points
    )
    return Response(found.model_dump_json(), media_type="application/json")


@router.get("/experiments/{experiment_id}/logs/download")
def log_download(experiment_id: str, page: Page, source: str | None = None) -> Response:
    """The whole log as a file, as the API's download route sends it."""
    return log_file_response(
        logs.download_logs(
            page.db, page.actor, experiment_id, settings=page.settings, source=source or None
        )
    )


@router.post("/experiments/{experiment_id}/cancel")
def cancel(experiment_id: str, page: CheckedPage) -> Response:
    experiments.cancel_experiment(page.db, page.actor, experiment_id)
    return RedirectResponse(f"/experiments/{experiment_id}", status_code=303)


@router.post("/experiments/{experiment_id}/resubmit")
def resubmit(experiment_id: str, page: CheckedPage) -> Response:
    new = experiments.resubmit_experiment(
        page.db, page.actor, experiment_id, settings=page.settings
    )
    return RedirectResponse(f"/experiments/{new.id}", status_code=303)
