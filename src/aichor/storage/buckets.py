"""A project's input and output buckets through fsspec: local folders, or any S3-compatible store.

Who calls it: the storage service (list, upload, download, delete objects), the pipeline (the
folders and URIs injected into replicas) and the TensorBoard server (`experiment_dirs`, which
maps an experiment to the local folders behind its bucket paths).

On the embedded default a bucket is the folder `<buckets_dir>/<project id>/<bucket name>/` and
an object is a plain file in it; `s3_server.py` serves `<buckets_dir>/<project id>/` over S3.
With `AICHOR_S3_ENDPOINT_URL` set, the same calls go to that store through s3fs. Every key goes
through `keys.check_key` first, and local paths are checked again once resolved.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from fsspec import AbstractFileSystem
from fsspec.implementations.local import LocalFileSystem

from aichor.errors import InvalidInput, NotFound
from aichor.settings import Settings
from aichor.storage.keys import check_key, check_prefix

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    modified: datetime | None


@dataclass(frozen=True)
class ExperimentDirs:
    """The local folders behind `AICHOR_OUTPUT_PATH` and `AICHOR_TENSORBOARD_PATH`."""

    output: Path
    tensorboard: Path


def project_root(settings: Settings, project_id: str) -> Path:
    """The folder holding a project's buckets on the embedded default (served over S3)."""
    return settings.buckets_dir / project_id


def experiment_dirs(
    settings: Settings, project_id: str, output_bucket: str, experiment_id: str
) -> ExperimentDirs:
    """Where an experiment's outputs and TensorBoard events land on the local disk."""
    bucket = project_root(settings, project_id) / output_bucket
    return ExperimentDirs(
        output=bucket / "output" / experiment_id,
        tensorboard=bucket / "tensorboard" / experiment_id,
    )


def is_local(settings: Settings) -> bool:
    return not settings.s3_endpoint_url


class BucketStore:
    """The objects of one project's buckets; `bucket` arguments are bucket names."""

    def __init__(self, fs: AbstractFileSystem, root: Path | None) -> None:
        self.fs = fs
        self.root = root
        """The project's folder on the local backend; None on S3."""

    @classmethod
    def for_project(cls, settings: Settings, project_id: str) -> BucketStore:
        if is_local(settings):
            return cls(LocalFileSystem(), project_root(settings, project_id))
        from s3fs import S3FileSystem  # loaded only when an S3 store is configured

        secret = settings.s3_secret_access_key
        fs = S3FileSystem(
            endpoint_url=settings.s3_endpoint_url,
            key=settings.s3_access_key_id or None,
            secret=secret.get_secret_value() if secret else None,
            client_kwargs={"region_name": settings.s3_region},
        )
        return cls(fs, None)

    def create_buckets(self, *buckets: str) -> None:
        for bucket in buckets:
            if self.root is not None:
                (self.root / bucket).mkdir(parents=True, exist_ok=True)
            elif not self.fs.exists(bucket):
                self.fs.mkdir(bucket)

    def path(self, bucket: str, key: str) -> str:
        """The backend path of an object; a key that would leave the bucket is refused."""
        check_key(key)
        if self.root is None:
            return f"{bucket}/{key}"
        bucket_dir = (self.root / bucket).resolve()
        target = (bucket_dir / key).resolve()
        if not target.is_relative_to(bucket_dir) or target == bucket_dir:
            raise InvalidInput(f"object key {key!r} leaves bucket {bucket}", field="key")
        return str(target)

    def list(self, bucket: str, prefix: str = "") -> list[ObjectInfo]:
        """Every object whose key starts with `prefix`, sorted by key."""
        check_prefix(prefix)
        base = self._bucket_path(bucket)
        folder = prefix.rpartition("/")[0]
        start = f"{base}/{folder}" if folder else base
        if not self.fs.exists(start):
            return []
        found = self.fs.find(start, detail=True)
        objects = []
        for path, info in found.items():
            key = path[len(base) + 1 :] if path.startswith(base + "/") else path
            if key.startswith(prefix) and info.get("type") == "file":
                objects.append(ObjectInfo(key, int(info.get("size") or 0), _modified(info)))
        return sorted(objects, key=lambda o: o.key)

    def put_file(self, bucket: str, key: str, source: Path) -> ObjectInfo:
        """Move a finished upload into place (atomically on the local backend)."""
        target = self.path(bucket, key)
        if self.root is not None:
            if Path(target).is_dir():
                raise InvalidInput(f"object key {key!r} is a folder in {bucket}", field="key")
            try:
                Path(target).parent.mkdir(parents=True, exist_ok=True)
            except (FileExistsError, NotADirectoryError):
                raise InvalidInput(
                    f"object key {key!r} runs through an object of {bucket}: a file cannot "
                    "also be a folder",
                    field="key",
                ) from None
            shutil.move(source, target)
        else:
            self.fs.put_file(str(source), target)
            source.unlink(missing_ok=True)
        return self.stat(bucket, key)

    def stat(self, bucket: str, key: str) -> ObjectInfo:
        path = self.path(bucket, key)
        try:
            info = self.fs.info(path)
        except FileNotFoundError:
            raise NotFound(f"object {key!r} not found in bucket {bucket}") from None
        if info.get("type") != "file":
            raise NotFound(f"object {key!r} not found in bucket {bucket}")
        return ObjectInfo(key, int(info.get("size") or 0), _modified(info))

    def local_file(self, bucket: str, key: str) -> Path | None:
        """The file itself on the local backend (after `stat`), None on S3."""
        self.stat(bucket, key)
        return Path(self.path(bucket, key)) if self.root is not None else None

    def read_chunks(self, bucket: str, key: str) -> Iterator[bytes]:
        self.stat(bucket, key)
        handle: IO[bytes]
        with self.fs.open(self.path(bucket, key), "rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk

    def delete(self, bucket: str, key: str) -> None:
        self.stat(bucket, key)
        path = self.path(bucket, key)
        self.fs.rm_file(path)
        if self.root is not None:
            _prune_empty_parents(Path(path).parent, (self.root / bucket).resolve())

    def _bucket_path(self, bucket: str) -> str:
        if self.root is None:
            return bucket
        return str((self.root / bucket).resolve())


def _modified(info: dict[str, Any]) -> datetime | None:
    value = info.get("mtime") or info.get("LastModified") or info.get("last_modified")
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    return None


def _prune_empty_parents(folder: Path, stop: Path) -> None:
    """Remove the folders a deleted object leaves empty, as S3 shows no empty 'folders'."""
    while folder != stop and folder.is_relative_to(stop):
        try:
            os.rmdir(folder)
        except OSError:
            return
        folder = folder.parent
