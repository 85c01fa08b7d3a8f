"""The platform variables every replica of an experiment sees (runtime contract, part 1).

Pure: callers pass in what they know about the experiment; `operators` add their own variables
on top. Used by `aichor run` now and by the control plane's pipeline later.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class S3Access:
    """The S3 endpoint and the project's key, when the buckets are reached over S3."""

    endpoint_url: str
    access_key_id: str
    secret_access_key: str
    region: str = ""


@dataclass(frozen=True)
class ExperimentFacts:
    """What the platform knows about one experiment when it starts."""

    experiment_id: str
    project_id: str
    message: str
    vcs_sha: str
    vcs_branch: str
    vcs_type: str
    user_name: str
    user_email: str
    cluster_name: str
    input_path: str
    """Input bucket, ending in `/`."""
    output_bucket: str
    """Output bucket root, ending in `/` (an `s3://bucket/` URI or a local directory)."""
    output_bucket_name: str
    s3: S3Access | None = None
    """Set when `input_path`/`output_bucket` are `s3://` URIs (never log the secret)."""


def platform_env(facts: ExperimentFacts) -> dict[str, str]:
    """Variables of the contract that do not depend on the operator, with legacy aliases."""
    output_path = f"{facts.output_bucket}output/{facts.experiment_id}/"
    tensorboard_path = f"{facts.output_bucket}tensorboard/{facts.experiment_id}/"
    return {
        "AICHOR_EXPERIMENT_ID": facts.experiment_id,
        "AICHOR_PROJECT_ID": facts.project_id,
        "AICHOR_EXPERIMENT_MESSAGE": facts.message,
        "VCS_COMMIT_MESSAGE": facts.message,
        "VCS_SHA": facts.vcs_sha,
        "VCS_BRANCH": facts.vcs_branch,
        "VCS_TYPE": facts.vcs_type,
        "AICHOR_USER_NAME": facts.user_name,
        "AICHOR_USER_EMAIL": facts.user_email,
        "AICHOR_CLUSTER_NAME": facts.cluster_name,
        "AICHOR_INPUT_PATH": facts.input_path,
        "AICHOR_INPUT_DATASET": facts.input_path,
        "AICHOR_OUTPUT_PATH": output_path,
        "AICHOR_OUTPUT_DATASET": output_path,
        "AICHOR_OUTPUT_BUCKET_NAME": facts.output_bucket_name,
        "AICHOR_TENSORBOARD_PATH": tensorboard_path,
        "AICHOR_LOGS_PATH": tensorboard_path,
        "PYTHONUNBUFFERED": "1",
        **_s3_env(facts.s3),
    }


def _s3_env(s3: S3Access | None) -> dict[str, str]:
    if s3 is None:
        return {}
    env = {
        "AWS_ENDPOINT_URL": s3.endpoint_url,
        "S3_ENDPOINT": s3.endpoint_url,
        "AWS_ACCESS_KEY_ID": s3.access_key_id,
        "AWS_SECRET_ACCESS_KEY": s3.secret_access_key,
    }
    if s3.region:
        env["AWS_DEFAULT_REGION"] = s3.region
    return env


def merged_env(
    facts: ExperimentFacts,
    project_variables: Mapping[str, str],
    spec_env: Mapping[str, str],
) -> dict[str, str]:
    """Project variables, then `spec.env` (which wins), then the platform's (protected) names."""
    env = dict(project_variables)
    env.update(spec_env)
    env.update(platform_env(facts))
    return env
