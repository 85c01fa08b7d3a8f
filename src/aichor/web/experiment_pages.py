"""The experiments list (live rows, filters, keyset pages) and the experiment page (steps,
logs, replicas, terminal, manifest and source; cancel and resubmit)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from aichor.services import dashboard, experiments
from aichor.web.deps import CheckedPage, Page, PageContext
from aichor.web.templating import render

router = APIRouter(include_in_schema=False)
TABS = ("steps", "logs", "replicas", "terminal", "metrics", "manifest")
_DOWNLOAD_PAGE = 10_000


@router.get("/")
def home() -> Response:
    return RedirectResponse("/experiments", status_code=303)


def _list(
    page: PageContext,
    project: str | None,
    engine: str | None,
    status: str | None,
    user: str | None,
    branch: str | None,
    cursor: str | None,
    *,
    with_submitters: bool = True,
) -> dashboard.ExperimentsPage:
    filters = dashboard.Filters(status=status, user=user, branch=branch, cursor=cursor)
    return dashboard.experiments_page(
        page.db,
        page.actor,
        project=project,
        engine=engine,
        filters=filters,
        with_submitters=with_submitters,
    )


@router.get("/experiments")
def experiments_list(
    page: Page,
    project: str | None = None,
    engine: str | None = None,
    status: str | None = None,
    user: str | None = None,
    branch: str | None = None,
    cursor: str | None = None,
) -> Response:
    found = _list(page, project, engine, status, user, branch, cursor)
    query = page.request.url.query
    return render(page, "experiments.html", found=found, query=query, cursor=cursor)


@router.get("/experiments/rows")
def experiments_rows(
    page: Page,
    project: str | None = None,
    engine: str | None = None,
    status: str | None = None,
    user: str | None = None,
    branch: str | None = None,
    cursor: str | None = None,
) -> Response:
    """The table body alone: what the list polls to stay live."""
    found = _list(page, project, engine, status, user, branch, cursor, with_submitters=False)
    return render(page, "_experiment_rows.html", found=found, query=page.request.url.query)


@router.get("/experiments/{experiment_id}")
def experiment(experiment_id: str, page: Page, tab: str = "steps") -> Response:
    detail = dashboard.experiment_detail(page.db, page.actor, experiment_id)
    tab = tab if tab in TABS else "steps"
    return render(page, "experiment.html", detail=detail, tab=tab, tabs=TABS)


@router.get("/experiments/{experiment_id}/live")
def experiment_live(experiment_id: str, page: Page, tab: str = "steps") -> Response:
    """The parts of the experiment page that change: header, steps, replicas."""
    detail = dashboard.experiment_detail(page.db, page.actor, experiment_id)
    return render(page, "_experiment_live.html", detail=detail, tab=tab, tabs=TABS)


@router.get("/experiments/{experiment_id}/logs/lines")
def log_lines(
    experiment_id: str,
    page: Page,
    source: str | None = None,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 2000,
) -> Response:
    """A page of lines as JSON for the log viewer (it follows the tail by polling `after`)."""
    found = experiments.read_logs(
        page.db,
        page.actor,
        experiment_id,
        settings=page.settings,
        source=source or None,
        after=after,
        limit=limit,
    )
    return Response(found.model_dump_json(), media_type="application/json")


@router.get("/experiments/{experiment_id}/logs/download")
def log_download(experiment_id: str, page: Page, source: str | None = None) -> Response:
    """The whole log as text, one `timestamp source text` line per record.

    Read in full before answering: the database session ends when the route returns."""
    text = b"".join(_log_text(page, experiment_id, source or None))
    name = f"{experiment_id}-{source or 'replicas'}.log"
    return Response(
        text,
        media_type="text/plain; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _log_text(page: PageContext, experiment_id: str, source: str | None) -> Iterator[bytes]:
    after = 0
    while True:
        found = experiments.read_logs(
            page.db,
            page.actor,
            experiment_id,
            settings=page.settings,
            source=source,
            after=after,
            limit=_DOWNLOAD_PAGE,
        )
        for line in found.lines:
            yield f"{line.timestamp.isoformat()}\t{line.source}\t{line.text}\n".encode()
        after = found.next
        if len(found.lines) < _DOWNLOAD_PAGE:
            return


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
