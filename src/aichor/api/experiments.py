"""/api/projects/{project}/experiments and /api/experiments/{id}: submit, list, read, cancel,
resubmit, logs (a page, a live SSE stream, a download). Thin: parse, one service call, the
schema back."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from aichor.api.deps import AppSettings, CurrentActor, DbSession, UnitOfWork
from aichor.db.session import Session
from aichor.errors import InvalidInput
from aichor.schemas.experiments import ExperimentPage, ExperimentView, LogPage, SubmitCommit
from aichor.services import experiments, logs
from aichor.services.access import Actor
from aichor.services.logs import LogDownload
from aichor.settings import Settings

router = APIRouter(tags=["experiments"])


SMALL_BODY = 1024 * 1024
"""A submission body up to this size (by Content-Length) is read before authenticating."""


@router.post("/api/projects/{project}/experiments", status_code=201, response_model=ExperimentView)
async def submit_experiment(project: str, request: Request) -> Response:
    """Multipart (`archive`, `manifest_path`, `message`, `engine`) or JSON `SubmitCommit`.

    The session and the caller come from `UnitOfWork` (the equivalent of `DbSession` and
    `CurrentActor`). A small body (nearly every submission) is read first and the rest is one
    thread-pool hop; anything wrong with it is raised in that hop, after authentication, so a
    caller without valid credentials still gets 401 first. A large or chunked upload is only
    read once the caller is authenticated (two hops). The view is sent as its own JSON, like
    a list page.
    """
    work = UnitOfWork(request)
    try:
        view = await _submit(project, request, work)
    finally:
        await request.close()  # the uploaded archive's temporary file
    return Response(view.model_dump_json(), status_code=201, media_type="application/json")


async def _submit(project: str, request: Request, work: UnitOfWork) -> ExperimentView:
    if _small_body(request):
        try:
            call = await _submission(project, request, work.settings)
        except Exception as error:
            call = partial(_raise, error)
        return await work.run(call)
    await work.begin()
    try:
        call = await _submission(project, request, work.settings)
    except BaseException as error:
        await work.fail(error)
        raise
    return await work.finish(call)


def _small_body(request: Request) -> bool:
    length = request.headers.get("content-length", "")
    return length.isdigit() and int(length) <= SMALL_BODY


def _raise(error: Exception, _db: Session, _actor: Actor) -> ExperimentView:
    """The submission's own problem, raised once the caller is authenticated."""
    raise error


async def _submission(
    project: str, request: Request, settings: Settings
) -> Callable[[Session, Actor], ExperimentView]:
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form()
        archive = form.get("archive")
        if not isinstance(archive, UploadFile):
            raise InvalidInput("the upload needs an `archive` file", field="archive")
        return partial(
            experiments.submit_local,
            settings=settings,
            project=project,
            archive=archive.file,
            manifest_path=_text(form.get("manifest_path")) or "manifest.yaml",
            message=_text(form.get("message")),
            engine=_text(form.get("engine")) or None,
        )
    try:
        raw = await request.json()
    except ValueError as error:
        raise InvalidInput(
            "send multipart/form-data with an `archive`, or a JSON SubmitCommit", field="body"
        ) from error
    body = _commit_body(raw)
    return partial(experiments.submit_commit, project=project, **body.model_dump())


@router.get("/api/projects/{project}/experiments", response_model=ExperimentPage)
async def list_experiments(
    project: str,
    request: Request,
    status: str | None = None,
    user: str | None = None,
    branch: str | None = None,
    engine: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> Response:
    """Newest first; the session and the caller from `UnitOfWork` (one thread-pool hop).

    The page is validated once, when the service builds it, and sent as its own JSON: FastAPI
    would otherwise validate and serialise every item a second time.
    """
    page = await UnitOfWork(request).run(
        partial(
            experiments.list_experiments,
            project=project,
            status=status,
            user=user,
            branch=branch,
            engine=engine,
            limit=limit,
            cursor=cursor,
        )
    )
    return Response(page.model_dump_json(), media_type="application/json")


@router.get("/api/experiments/{experiment_id}")
def read_experiment(experiment_id: str, db: DbSession, actor: CurrentActor) -> ExperimentView:
    return experiments.get_experiment(db, actor, experiment_id)


@router.post("/api/experiments/{experiment_id}/cancel")
def cancel_experiment(experiment_id: str, db: DbSession, actor: CurrentActor) -> ExperimentView:
    return experiments.cancel_experiment(db, actor, experiment_id)


@router.post("/api/experiments/{experiment_id}/resubmit", status_code=201)
def resubmit_experiment(
    experiment_id: str, db: DbSession, actor: CurrentActor, settings: AppSettings
) -> ExperimentView:
    return experiments.resubmit_experiment(db, actor, experiment_id, settings=settings)


@router.get("/api/experiments/{experiment_id}/logs")
def read_logs(
    experiment_id: str,
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
    source: str | None = None,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> LogPage:
    return logs.read_logs(
        db, actor, experiment_id, settings=settings, source=source, after=after, limit=limit
    )


@router.get("/api/experiments/{experiment_id}/logs/stream")
def stream_logs(
    experiment_id: str,
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
    source: str | None = None,
    after: Annotated[int, Query(ge=0)] = 0,
    last_event_id: Annotated[int | None, Header(ge=0)] = None,
) -> StreamingResponse:
    """Server-Sent Events; `Last-Event-ID` (a reconnecting EventSource) wins over `after`."""
    stream = logs.open_stream(
        db,
        actor,
        experiment_id,
        settings=settings,
        source=source,
        after=after if last_event_id is None else last_event_id,
    )
    return StreamingResponse(stream.events(), media_type="text/event-stream", headers=_SSE)


@router.get("/api/experiments/{experiment_id}/logs/download")
def download_logs(
    experiment_id: str,
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
    source: str | None = None,
) -> StreamingResponse:
    return log_file_response(
        logs.download_logs(db, actor, experiment_id, settings=settings, source=source)
    )


def log_file_response(file: LogDownload) -> StreamingResponse:
    """A whole log as an attachment (the API's and the dashboard's download routes)."""
    headers = {
        "Content-Disposition": f'attachment; filename="{file.filename}"',
        "Content-Length": str(file.size),
    }
    return StreamingResponse(file.chunks, media_type="text/plain; charset=utf-8", headers=headers)


_SSE = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _commit_body(raw: Any) -> SubmitCommit:
    try:
        return SubmitCommit.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise InvalidInput(f"{field}: {first['msg']}", field=field) from error
