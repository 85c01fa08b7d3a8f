"""Project storage: a project's buckets, their objects and its S3 access key.

Callers: api/storage.py. Every call starts from `get_project`, so another organisation's project
(or one the caller is not a member of) is NotFound. A bucket is named by its kind (`input`,
`output`) or by its full name; object keys go through `aichor.storage.keys` before any file is
touched. Uploads arrive as a finished temporary file (the route streams the body to disk) and
are moved into place whole, so a failed upload never leaves a half-written object.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.orm import Session

from aichor.db import tables
from aichor.errors import Conflict, InvalidInput
from aichor.schemas.storage import AccessKeyCreated, BucketView, ObjectView, StorageView
from aichor.services import audit
from aichor.services.access import Actor, get_project
from aichor.settings import Settings
from aichor.storage import records
from aichor.storage.buckets import BucketStore, ObjectInfo
from aichor.storage.keys import KINDS, check_key
from aichor.storage.s3_server import read_endpoint


def uploads_dir(settings: Settings) -> Path:
    """Where request bodies are streamed before they become objects (same disk as buckets)."""
    return settings.buckets_dir / ".uploads"


def read_storage(
    session: Session, actor: Actor, *, settings: Settings, project: str
) -> StorageView:
    row = _storage(session, actor, settings, project)
    return _view(settings, row)


def list_objects(
    session: Session, actor: Actor, *, settings: Settings, project: str, bucket: str, prefix: str
) -> list[ObjectView]:
    row = _storage(session, actor, settings, project)
    name = _bucket(row, bucket)
    return [_object(name, info) for info in _store(settings, row).list(name, prefix)]


def put_object(
    session: Session,
    actor: Actor,
    *,
    settings: Settings,
    project: str,
    bucket: str,
    key: str,
    upload: Path,
) -> ObjectView:
    row = _storage(session, actor, settings, project)
    name = _bucket(row, bucket)
    info = _store(settings, row).put_file(name, check_key(key), upload)
    audit.record(
        session, actor, "storage.put", target=row.project_id, detail={"uri": _uri(name, key)}
    )
    return _object(name, info)


def read_object(
    session: Session, actor: Actor, *, settings: Settings, project: str, bucket: str, key: str
) -> tuple[ObjectView, Path | Iterator[bytes]]:
    """The object's description and its content: a local file, or chunks from the S3 store."""
    row = _storage(session, actor, settings, project)
    name = _bucket(row, bucket)
    store = _store(settings, row)
    info = store.stat(name, check_key(key))
    local = store.local_file(name, key)
    return _object(name, info), local if local is not None else store.read_chunks(name, key)


def delete_object(
    session: Session, actor: Actor, *, settings: Settings, project: str, bucket: str, key: str
) -> None:
    row = _storage(session, actor, settings, project)
    name = _bucket(row, bucket)
    _store(settings, row).delete(name, check_key(key))
    audit.record(
        session, actor, "storage.delete", target=row.project_id, detail={"uri": _uri(name, key)}
    )


def rotate_key(
    session: Session, actor: Actor, *, settings: Settings, project: str
) -> AccessKeyCreated:
    """A new members' key for the project (shown once); the previous one is refused within a
    second or two. The workloads' key is never shown and never changes."""
    row = _storage(session, actor, settings, project)
    if settings.s3_endpoint_url:
        raise Conflict(
            "this server's buckets are on an external S3 store: its keys are managed there"
        )
    pair = records.rotate_user_key(session, settings, row)
    audit.record(session, actor, "storage.rotate_key", target=row.project_id)
    endpoint = read_endpoint(settings, row.project_id)
    return AccessKeyCreated(
        access_key_id=pair.access_key_id,
        secret_access_key=pair.secret,
        endpoint_url=endpoint.url if endpoint else None,
    )


def _storage(
    session: Session, actor: Actor, settings: Settings, project: str
) -> tables.ProjectStorage:
    return records.ensure(session, settings, get_project(session, actor, project))


def _store(settings: Settings, row: tables.ProjectStorage) -> BucketStore:
    store = BucketStore.for_project(settings, row.project_id)
    if store.root is not None:
        store.create_buckets(row.input_bucket, row.output_bucket)
    return store


def _bucket(row: tables.ProjectStorage, bucket: str) -> str:
    names = {"input": row.input_bucket, "output": row.output_bucket}
    if bucket in names:
        return names[bucket]
    if bucket in names.values():
        return bucket
    choices = ", ".join([*KINDS, *names.values()])
    raise InvalidInput(f"bucket {bucket!r} is not one of this project's: {choices}", field="bucket")


def _view(settings: Settings, row: tables.ProjectStorage) -> StorageView:
    external = bool(settings.s3_endpoint_url)
    endpoint = None if external else read_endpoint(settings, row.project_id)
    return StorageView(
        project_id=row.project_id,
        buckets=[
            BucketView(kind=kind, name=name, uri=f"s3://{name}/")
            for kind, name in (("input", row.input_bucket), ("output", row.output_bucket))
        ],
        endpoint_url=settings.s3_endpoint_url if external else endpoint.url if endpoint else None,
        access_key_id=None if external else row.user_key_id,
        rotated_at=row.rotated_at,
    )


def _object(bucket: str, info: ObjectInfo) -> ObjectView:
    return ObjectView(
        bucket=bucket,
        key=info.key,
        size=info.size,
        modified=info.modified,
        uri=_uri(bucket, info.key),
    )


def _uri(bucket: str, key: str) -> str:
    return f"s3://{bucket}/{key}"
