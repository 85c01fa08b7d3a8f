"""Datasets: browse the project's buckets, upload, download, delete, copy an object's path,
download the project's S3 access keys. Every call goes through `services.storage`."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, RedirectResponse, StreamingResponse
from starlette.responses import Response

from aichor.services import dashboard, storage
from aichor.web.deps import CheckedPage, Page
from aichor.web.templating import render

router = APIRouter(prefix="/datasets", include_in_schema=False)
Field = Annotated[str, Form()]


def _back(project: str, bucket: str, prefix: str = "") -> Response:
    query = urlencode({"project": project, "bucket": bucket, "prefix": prefix})
    return RedirectResponse(f"/datasets?{query}", status_code=303)


@router.get("")
def datasets(
    page: Page, project: str | None = None, bucket: str = "input", prefix: str = ""
) -> Response:
    found = dashboard.datasets_page(
        page.db, page.actor, settings=page.settings, project=project, bucket=bucket, prefix=prefix
    )
    return render(page, "datasets.html", found=found, prefix=prefix)


@router.post("/upload")
async def upload(
    page: CheckedPage, file: UploadFile, project: Field, bucket: Field, folder: Field = ""
) -> Response:
    """The file goes to the buckets' disk first, then into the bucket whole (never half)."""
    key = f"{folder.strip('/')}/{file.filename}" if folder.strip("/") else str(file.filename)
    spooled = await run_in_threadpool(_spool, file, storage.uploads_dir(page.settings))
    try:
        await run_in_threadpool(
            storage.put_object,
            page.db,
            page.actor,
            settings=page.settings,
            project=project,
            bucket=bucket,
            key=key,
            upload=spooled,
        )
    finally:
        spooled.unlink(missing_ok=True)
    return _back(project, bucket, folder)


def _spool(file: UploadFile, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    descriptor, name = tempfile.mkstemp(dir=folder, prefix="upload-")
    with os.fdopen(descriptor, "wb") as out:
        shutil.copyfileobj(file.file, out, 1024 * 1024)
    return Path(name)


@router.get("/object", response_model=None)
def download(page: Page, project: str, bucket: str, key: str) -> Response:
    info, content = storage.read_object(
        page.db, page.actor, settings=page.settings, project=project, bucket=bucket, key=key
    )
    name = os.path.basename(info.key)
    if isinstance(content, Path):
        return FileResponse(content, filename=name, media_type="application/octet-stream")
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    return StreamingResponse(content, media_type="application/octet-stream", headers=disposition)


@router.post("/delete")
def delete(page: CheckedPage, project: Field, bucket: Field, key: Field) -> Response:
    storage.delete_object(
        page.db, page.actor, settings=page.settings, project=project, bucket=bucket, key=key
    )
    return _back(project, bucket, os.path.dirname(key))


@router.post("/keys")
def keys(page: CheckedPage, project: Field) -> Response:
    """New S3 keys for the project's members, as a file (the previous ones stop working)."""
    created = storage.rotate_key(page.db, page.actor, settings=page.settings, project=project)
    text = (
        f"AWS_ACCESS_KEY_ID={created.access_key_id}\n"
        f"AWS_SECRET_ACCESS_KEY={created.secret_access_key}\n"
        f"AWS_ENDPOINT_URL={created.endpoint_url or ''}\n"
    )
    return Response(
        text,
        media_type="text/plain; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="aichor-s3-keys.env"'},
    )
