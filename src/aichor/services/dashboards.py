"""TensorBoard and the Ray dashboard of an experiment: whether there is one, and where.

Called by `aichor.api.dashboards` before it proxies a request (after the same access check as
reading the experiment) and by `experiment_views` for the links an experiment view shows.
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy.orm import Session

from aichor.dashboards.tensorboard import TensorBoardTarget
from aichor.db import tables
from aichor.engines.local.detached import DetachedLocalEngine
from aichor.errors import AichorError, NotFound, Unavailable
from aichor.lifecycle import TERMINAL_EXPERIMENT, ExperimentStatus
from aichor.manifest import load_manifest
from aichor.services.access import Actor, visible_experiment
from aichor.settings import Settings
from aichor.storage import records


def tensorboard_path(experiment_id: str) -> str:
    """The proxy path of an experiment's TensorBoard (also TensorBoard's `--path_prefix`)."""
    return f"/api/experiments/{experiment_id}/tensorboard"


def ray_dashboard_path(experiment_id: str) -> str:
    return f"/api/experiments/{experiment_id}/ray-dashboard"


def tensorboard_target(
    session: Session, actor: Actor, experiment_id: str, *, settings: Settings
) -> TensorBoardTarget:
    """What the experiment's TensorBoard serves; NotFound unless the manifest enables it."""
    experiment = visible_experiment(session, actor, experiment_id)
    if not tensorboard_enabled(experiment.manifest_text):
        raise NotFound(
            f"experiment {experiment.id} has no TensorBoard: set spec.tensorboard.enabled"
        )
    project = session.get(tables.Project, experiment.project_id)
    if project is None:
        raise NotFound(f"experiment {experiment_id} not found")
    return TensorBoardTarget(
        key=experiment.id,
        # Where `AICHOR_TENSORBOARD_PATH` lands on this machine (the embedded buckets' folders,
        # served over S3 or not): decision 102.
        logdir=records.experiment_dirs_for(session, settings, project, experiment.id).tensorboard,
        path_prefix=tensorboard_path(experiment.id),
    )


def ray_dashboard_upstream(
    session: Session, actor: Actor, experiment_id: str, *, settings: Settings
) -> str:
    """The URL the running Ray head's dashboard listens on (recorded by the local engine)."""
    experiment = visible_experiment(session, actor, experiment_id)
    if experiment.operator != "kuberay":
        raise NotFound(f"experiment {experiment.id} is not a kuberay experiment")
    if ExperimentStatus(experiment.status) in TERMINAL_EXPERIMENT:
        raise NotFound(f"experiment {experiment.id} ended; its Ray dashboard went with it")
    engine = DetachedLocalEngine(state_dir=settings.runs_dir, cache_dir=settings.cache_dir)
    url = (
        engine.endpoints(experiment.workload_name).get("ray-dashboard")
        if (experiment.workload_name)
        else None
    )
    if url is None:
        raise Unavailable(f"the Ray head of experiment {experiment.id} is not up yet")
    return url


def links(experiment: tables.Experiment) -> dict[str, str | None]:
    """`tensorboard_url` and `ray_dashboard_url` of an experiment view (None: not offered)."""
    running = ExperimentStatus(experiment.status) not in TERMINAL_EXPERIMENT
    return {
        "tensorboard_url": f"{tensorboard_path(experiment.id)}/"
        if tensorboard_enabled(experiment.manifest_text)
        else None,
        "ray_dashboard_url": f"{ray_dashboard_path(experiment.id)}/"
        if experiment.operator == "kuberay" and running
        else None,
    }


@lru_cache(maxsize=512)
def tensorboard_enabled(manifest_text: str) -> bool:
    """`spec.tensorboard.enabled` of a manifest (cached: a manifest never changes once stored)."""
    if not manifest_text:
        return False
    try:
        tensorboard = load_manifest(manifest_text, source="manifest.yaml").spec.tensorboard
    except AichorError:
        return False
    return bool(tensorboard and tensorboard.enabled)
