"""Project storage on the wire: buckets, objects and access keys."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class BucketView(BaseModel):
    kind: str = Field(description="`input` or `output`.")
    name: str
    uri: str = Field(description="`s3://<name>/`.")


class StorageView(BaseModel):
    project_id: str
    buckets: list[BucketView]
    endpoint_url: str | None = Field(
        description="S3 endpoint for boto3/s3fs; null while the embedded endpoint is down."
    )
    access_key_id: str | None = Field(
        description="The members' key id; null until `POST .../storage/keys` issues one "
        "(and on an external store)."
    )
    rotated_at: datetime


class ObjectView(BaseModel):
    bucket: str
    key: str
    size: int
    modified: datetime | None
    uri: str = Field(description="`s3://<bucket>/<key>`: the path to copy into code.")


class AccessKeyCreated(BaseModel):
    access_key_id: str
    secret_access_key: str = Field(description="Shown once: store it now.")
    endpoint_url: str | None
