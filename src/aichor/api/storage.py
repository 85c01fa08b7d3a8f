"""/api/projects/{project}/storage: the project's buckets, their objects and its access key.

`{bucket}` is `input`, `output` or the bucket's full name; `{key}` is the object key (a path).
Uploads (`PUT`) stream the request body to a temporary file on the buckets' disk, never into
memory, then hand it to the service, which moves it into place; downloads stream the file.
"""

from __future__ import annotations

import os
import tempfile
from functools import partial
from pathlib import Path

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, StreamingResponse

from aichor.api.deps import AppSettings, CurrentActor, DbSession, UnitOfWork
from aichor.schemas.storage import AccessKeyCreated, ObjectView, StorageView
from aichor.services import storage
from aichor.storage.keys import check_key

router = APIRouter(prefix="/api/projects/{project}/storage", tags=["storage"])


@router.get("")
def read_storage(
    project: str, db: DbSession, actor: CurrentActor, settings: AppSettings
) -> StorageView:
    return storage.read_storage(db, actor, settings=settings, project=project)


@router.post("/keys", status_code=201)
def issue_key(
    project: str, db: DbSession, actor: CurrentActor, settings: AppSettings
) -> AccessKeyCreated:
    return storage.rotate_key(db, actor, settings=settings, project=project)


@router.get("/objects/{bucket}")
def list_objects(
    project: str,
    bucket: str,
    db: DbSession,
    actor: CurrentActor,
    settings: AppSettings,
    prefix: str = "",
) -> list[ObjectView]:
    return storage.list_objects(
        db, actor, settings=settings, project=project, bucket=bucket, prefix=prefix
    )


@router.put("/objects/{bucket}/{key:path}", status_code=201)
async def put_object(project: str, bucket: str, key: str, request: Request) -> ObjectView:
    """The raw request body becomes the object (any content type)."""
    work = UnitOfWork(request)
    await work.begin()
    try:
        check_key(key)  # before the body is read: a refused key costs no upload
        upload = await _spool(request, storage.uploads_dir(work.settings))
    except BaseException as error:
        await work.fail(error)
        raise
    call = partial(
        storage.put_object,
        settings=work.settings,
        project=project,
        bucket=bucket,
        key=key,
        upload=upload,
    )
    try:
        return await work.finish(call)
    finally:
        await anyio.Path(upload).unlink(missing_ok=True)  # moved into the bucket on success


@router.get("/objects/{bucket}/{key:path}", response_model=None)
def get_object(
    project: str, bucket: str, key: str, db: DbSession, actor: CurrentActor, settings: AppSettings
) -> FileResponse | StreamingResponse:
    info, content = storage.read_object(
        db, actor, settings=settings, project=project, bucket=bucket, key=key
    )
    filename = os.path.basename(info.key)
    if isinstance(content, Path):
        return FileResponse(content, filename=filename, media_type="application/octet-stream")
    return StreamingResponse(
        content,
        media_type="application/octet-stream",
        headers={"Content-Length": str(info.size)},
    )


@router.delete("/objects/{bucket}/{key:path}", status_code=204)
def delete_object(
    project: str, bucket: str, key: str, db: DbSession, actor: CurrentActor, settings: AppSettings
) -> None:
    storage.delete_object(db, actor, settings=settings, project=project, bucket=bucket, key=key)


async def _spool(request: Request, folder: Path) -> Path:
    """The request body in a new file under `folder`, written chunk by chunk."""
    path = anyio.Path(await anyio.to_thread.run_sync(_new_file, folder))
    try:
        async with await anyio.open_file(path, "wb") as handle:
            async for chunk in request.stream():
                await handle.write(chunk)
    except BaseException:
        await path.unlink(missing_ok=True)
        raise
    return Path(path)


def _new_file(folder: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    descriptor, name = tempfile.mkstemp(dir=folder, prefix="upload-")
    os.close(descriptor)
    return name
