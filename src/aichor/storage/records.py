"""The `project_storage` row of each project: bucket names and the project's S3 access keys.

Who calls it: the storage service (show, rotate keys), the pipeline's claim (the credentials a
job injects into its replicas) and the embedded S3 endpoints (`s3_server.py`, which serve each
project's folder with that project's key only). A row is created on first use; its bucket names
never change afterwards (renaming a project does not move its data). The secret is kept as a
Fernet token (`aichor.crypto.STORAGE_KEYS`): the pipeline must hand it to every replica, so it
cannot be a one-way hash (and SigV4 needs the secret itself to check a signature). Two keys per
project: the workloads' key, injected into replicas and never shown, and the members' key,
shown once when `aichor storage keys` issues it; rotating the latter leaves running replicas be.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from aichor import crypto
from aichor.db import tables
from aichor.settings import Settings
from aichor.storage.buckets import ExperimentDirs, experiment_dirs, is_local
from aichor.storage.keys import bucket_name


@dataclass(frozen=True)
class Credentials:
    """What a replica (or `boto3`) needs to reach a project's buckets; never log `secret`."""

    access_key_id: str
    secret: str


def new_key_pair() -> Credentials:
    """An AWS-shaped pair: 20 upper-case characters and a 40-character secret."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    key_id = "AKAI" + "".join(secrets.choice(alphabet) for _ in range(16))
    return Credentials(key_id, secrets.token_urlsafe(30)[:40])


def find(session: Session, project_id: str) -> tables.ProjectStorage | None:
    return session.get(tables.ProjectStorage, project_id)


def ensure(session: Session, settings: Settings, project: tables.Project) -> tables.ProjectStorage:
    """The project's row, created (with buckets named after the project) when missing."""
    row = find(session, project.id)
    if row is not None:
        return row
    on_s3 = not is_local(settings)
    # A shared S3 store needs names unique across projects and organisations.
    unique = project.id.split("-")[0] if on_s3 else ""
    prefix = settings.s3_bucket_prefix if on_s3 else ""
    pair = new_key_pair()
    row = tables.ProjectStorage(
        project_id=project.id,
        organisation_id=project.organisation_id,
        input_bucket=bucket_name(project.name, "input", prefix=prefix, unique=unique),
        output_bucket=bucket_name(project.name, "output", prefix=prefix, unique=unique),
        access_key_id=pair.access_key_id,
        secret_key=crypto.encrypt(settings.secret(), pair.secret, crypto.STORAGE_KEYS),
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # another worker created it first
        existing = find(session, project.id)
        if existing is None:
            raise
        return existing
    return row


def rotate_user_key(
    session: Session, settings: Settings, row: tables.ProjectStorage
) -> Credentials:
    """A new members' key for the project; the previous one is refused once the endpoint
    restarts with the new one. The workloads' key is untouched, so running replicas go on."""
    pair = new_key_pair()
    row.user_key_id = pair.access_key_id
    row.user_secret_key = crypto.encrypt(settings.secret(), pair.secret, crypto.STORAGE_KEYS)
    row.rotated_at = tables.utcnow()
    session.flush()
    return pair


def credentials(settings: Settings, row: tables.ProjectStorage) -> Credentials:
    """The workloads' key in clear."""
    secret = crypto.decrypt(settings.secret(), row.secret_key, crypto.STORAGE_KEYS)
    return Credentials(row.access_key_id, secret)


def every_key(settings: Settings, row: tables.ProjectStorage) -> list[Credentials]:
    """Every key the project's endpoint accepts: the workloads' and the members' (if issued)."""
    keys = [credentials(settings, row)]
    if row.user_key_id and row.user_secret_key:
        secret = crypto.decrypt(settings.secret(), row.user_secret_key, crypto.STORAGE_KEYS)
        keys.append(Credentials(row.user_key_id, secret))
    return keys


def key_ids(row: tables.ProjectStorage) -> tuple[str, ...]:
    """The ids of `every_key`, in the same order, without decrypting anything."""
    if row.user_key_id and row.user_secret_key:
        return (row.access_key_id, row.user_key_id)
    return (row.access_key_id,)


def experiment_dirs_for(
    session: Session, settings: Settings, project: tables.Project, experiment_id: str
) -> ExperimentDirs:
    """The local folders behind an experiment's `AICHOR_OUTPUT_PATH` and
    `AICHOR_TENSORBOARD_PATH` (for the TensorBoard server; embedded store only)."""
    row = ensure(session, settings, project)
    return experiment_dirs(settings, project.id, row.output_bucket, experiment_id)


def every_row(session: Session) -> list[tables.ProjectStorage]:
    return list(session.scalars(select(tables.ProjectStorage)))


def projects_without_storage(session: Session) -> list[tables.Project]:
    have = select(tables.ProjectStorage.project_id)
    return list(session.scalars(select(tables.Project).where(tables.Project.id.not_in(have))))
