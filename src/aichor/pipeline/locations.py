"""Where an experiment's replicas find the project's buckets: `s3://` URIs and the S3 endpoint
with the project's key, or local folders when no S3 endpoint can be reached.

Called by the Submitting step (`submit._facts`) to fill the runtime contract's paths
(`AICHOR_INPUT_PATH`, `AICHOR_OUTPUT_PATH`, ...) and the `AWS_*` variables.
"""

from __future__ import annotations

from dataclasses import dataclass

from aichor.experiment_env import S3Access
from aichor.pipeline.work import Context, Job, JobStorage
from aichor.storage.buckets import experiment_dirs, is_local, project_root
from aichor.storage.s3_server import wait_for_endpoint

ENDPOINT_WAIT_SECONDS = 15.0
"""How long a new project's endpoint may take to come up (the supervisor polls every second)."""


@dataclass(frozen=True)
class BucketLocation:
    input_path: str
    """Ends in `/`."""
    output_bucket: str
    """The output bucket's root, ending in `/`."""
    output_bucket_name: str
    s3: S3Access | None


def bucket_location(ctx: Context, job: Job) -> BucketLocation:
    settings = ctx.settings
    storage = job.storage
    if storage is None:  # a job loaded without settings: plain folders, as `aichor run` uses
        root = settings.buckets_dir / job.project_id
        storage = JobStorage("input", "output", "", "")
    else:
        root = project_root(settings, job.project_id)
    dirs = experiment_dirs(settings, job.project_id, storage.output_bucket, job.id)
    for folder in (root / storage.input_bucket, dirs.output, dirs.tensorboard):
        folder.mkdir(parents=True, exist_ok=True)
    s3 = _s3_access(ctx, job, storage)
    if s3 is None:
        return BucketLocation(
            input_path=f"{root / storage.input_bucket}/",
            output_bucket=f"{root / storage.output_bucket}/",
            output_bucket_name=storage.output_bucket,
            s3=None,
        )
    return BucketLocation(
        input_path=f"s3://{storage.input_bucket}/",
        output_bucket=f"s3://{storage.output_bucket}/",
        output_bucket_name=storage.output_bucket,
        s3=s3,
    )


def _s3_access(ctx: Context, job: Job, storage: JobStorage) -> S3Access | None:
    settings = ctx.settings
    if not storage.access_key_id:
        return None
    if not is_local(settings):  # an external store: the platform's own credentials
        secret = settings.s3_secret_access_key
        return S3Access(
            endpoint_url=settings.s3_endpoint_url,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=secret.get_secret_value() if secret else "",
            region=settings.s3_region,
        )
    if not settings.storage_serve:
        return None
    endpoint = wait_for_endpoint(
        settings, job.project_id, storage.access_key_id, ENDPOINT_WAIT_SECONDS
    )
    if endpoint is None:
        ctx.step_log(job, job.step)(
            "the project's S3 endpoint is not running: replicas get local bucket folders"
        )
        return None
    return S3Access(
        endpoint_url=endpoint.url,
        access_key_id=storage.access_key_id,
        secret_access_key=storage.secret,
        region=settings.s3_region,
    )
