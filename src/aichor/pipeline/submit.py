"""Submitting: operator plan → `Workload` → `engine.submit` (idempotent on the workload name).

Also used at submit time (services) through `plan_gang`, to size the gang before queueing.
"""

from __future__ import annotations

from aichor import operators
from aichor.engines.base import Mount, RunPolicy, Workload
from aichor.experiment_env import ExperimentFacts, merged_env
from aichor.lifecycle import StepStatus
from aichor.manifest import Manifest, Spec, load_manifest
from aichor.operators.base import Addressing, HostnameAddressing, RunContext, short_name
from aichor.pipeline.build import load_image
from aichor.pipeline.locations import bucket_location
from aichor.pipeline.work import Context, Job, Result
from aichor.replicas import ReplicaPlan
from aichor.storage.volumes import remove_shared_volume, volume_mounts


def act(job: Job, ctx: Context) -> Result:
    job.check_variables()
    manifest = load_manifest(job.manifest_text, source=job.manifest_path)
    name = short_name(job.id)
    base_env = merged_env(_facts(job, ctx), job.variables, manifest.spec.env)
    plan = plan_gang(
        manifest, job.id, base_env=base_env, addressing=ctx.engine.new_addressing(name)
    )
    image = load_image(ctx.workspace(job) / "image.json")
    mounts = volume_mounts(ctx.settings, manifest.spec.storage, job.project_id, job.id)
    workload = Workload(
        plan=plan,
        image=image,
        policy=run_policy(manifest.spec),
        mounts=tuple(Mount(source, target) for source, target in mounts),
    )
    try:
        ctx.engine.submit(workload)
    except BaseException:
        remove_shared_volume(ctx.settings, job.id)  # the Running step will not remove it
        raise
    return Result(
        StepStatus.SUCCEEDED,
        f"{len(plan.replicas)} replica(s) submitted to {job.engine_name}",
        updates={"workload_name": name},
    )


def plan_gang(
    manifest: Manifest,
    experiment_id: str,
    *,
    base_env: dict[str, str] | None = None,
    addressing: Addressing | None = None,
) -> ReplicaPlan:
    """The operator's replicas for this manifest (pure)."""
    spec = manifest.spec
    ctx = RunContext(
        experiment_id=experiment_id,
        workload_name=short_name(experiment_id),
        base_env=base_env or {},
        image=spec.image,
        addressing=addressing or HostnameAddressing(),
        builder=manifest.builder,
    )
    return operators.get(spec.operator).plan_replicas(spec, ctx)


def run_policy(spec: Spec) -> RunPolicy:
    graceful = spec.graceful_termination
    deadline = spec.deadline_seconds()
    return RunPolicy(
        backoff_limit=spec.restart_policy.backoff_limit,
        deadline_seconds=None if deadline is None else float(deadline),
        shutdown_command=tuple(graceful.shutdown_command) if graceful else None,
        grace_period_seconds=(
            float(graceful.termination_grace_period_seconds) if graceful else 30.0
        ),
    )


def _facts(job: Job, ctx: Context) -> ExperimentFacts:
    location = bucket_location(ctx, job)
    return ExperimentFacts(
        experiment_id=job.id,
        project_id=job.project_id,
        message=job.message,
        vcs_sha=job.commit_sha,
        vcs_branch=job.branch,
        vcs_type="git" if job.source_kind == "commit" else "local",
        user_name=job.user_name,
        user_email=job.user_email,
        cluster_name=job.engine_name,
        input_path=location.input_path,
        output_bucket=location.output_bucket,
        output_bucket_name=location.output_bucket_name,
        s3=location.s3,
    )
