"""A month of finished experiments with their usage records, written straight into a server's
database: the past a screenshot of a lived-in organisation needs (no API writes history)."""

from __future__ import annotations

import hashlib
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import create_engine, insert, select

from aichor.db import tables
from aichor.lifecycle import STEP_ORDER, ExperimentStatus, Step, StepStatus

BRANCHES = ("main", "feature/mixup", "exp/large-batch", "fix/dataloader", "exp/vit-b16")
MESSAGES = ("baseline", "lr 3e-4", "cosine schedule", "bigger batch", "label smoothing", "ablation")
GPU = "NVIDIA-A100"


def add_history(url: str, count: int = 60, seed: int = 7) -> None:
    """`count` finished experiments of the default project over the last 30 days."""
    rng = random.Random(seed)
    engine = create_engine(url)
    with engine.begin() as connection:
        project = connection.execute(
            select(tables.Project).where(tables.Project.name == "default")
        ).one()
        people = connection.execute(select(tables.User.id, tables.User.email)).all()
        now = datetime.now(UTC)
        experiments, steps, usage = [], [], []
        for n in range(count):
            user_id, email = rng.choice(people)
            status = rng.choices(
                [ExperimentStatus.SUCCEEDED, ExperimentStatus.FAILED, ExperimentStatus.CANCELLED],
                weights=[7, 2, 1],
            )[0]
            created = now - timedelta(days=30) + timedelta(hours=n * 11.5 + rng.random())
            hours = rng.uniform(0.3, 9.0)
            cpus, memory, gpus = rng.choice([(4, 16, 0), (8, 32, 1), (16, 64, 2), (2, 8, 0)])
            experiment_id = str(uuid.uuid4())
            experiments.append(
                _experiment(experiment_id, project, user_id, email, status, created, n)
                | {"requested_cpus": cpus, "requested_memory_gib": memory, "requested_gpus": gpus}
            )
            steps += _steps(experiment_id, status, created)
            seconds = hours * 3600
            usage.append(
                {
                    "id": str(uuid.uuid4()),
                    "organisation_id": project.organisation_id,
                    "project_id": project.id,
                    "user_id": user_id,
                    "engine_id": project.default_engine_id,
                    "experiment_id": experiment_id,
                    "cpu_seconds": cpus * seconds,
                    "memory_gib_seconds": memory * seconds,
                    "gpu_seconds": {GPU: gpus * seconds} if gpus else {},
                    "started_at": created,
                    "ended_at": created + timedelta(seconds=seconds),
                }
            )
        connection.execute(insert(tables.Experiment), experiments)
        connection.execute(insert(tables.ExperimentStep), steps)
        connection.execute(insert(tables.UsageRecord), usage)
    engine.dispose()


def _experiment(
    experiment_id: str,
    project: Any,
    user_id: str,
    email: str,
    status: ExperimentStatus,
    created: datetime,
    n: int,
) -> dict[str, Any]:
    return {
        "id": experiment_id,
        "organisation_id": project.organisation_id,
        "project_id": project.id,
        "engine_id": project.default_engine_id,
        "user_id": user_id,
        "source_kind": "commit",
        "commit_sha": hashlib.sha1(f"commit {n}".encode()).hexdigest(),  # noqa: S324 - an id
        "branch": BRANCHES[n % len(BRANCHES)],
        "manifest_path": "aichor/manifest.yaml",
        "status": status,
        "current_step": Step.COMPLETED,
        "created_at": created,
        "updated_at": created + timedelta(hours=1),
        "author": email,
        "message": MESSAGES[n % len(MESSAGES)],
        "archive_key": "",
        "manifest_text": "",
        "operator": "pytorch",
        "priority": 0,
        "workload_name": "",
        "cancel_requested": False,
        "failure_reason": "" if status != ExperimentStatus.FAILED else "exited with code 1",
        "failed_replica": "",
    }


def _steps(experiment_id: str, status: ExperimentStatus, created: datetime) -> list[dict[str, Any]]:
    ending = {
        ExperimentStatus.SUCCEEDED: StepStatus.SUCCEEDED,
        ExperimentStatus.FAILED: StepStatus.FAILED,
        ExperimentStatus.CANCELLED: StepStatus.CANCELLED,
    }[status]
    rows = []
    for position, step in enumerate(STEP_ORDER):
        late = step in (Step.RUNNING, Step.COMPLETED)
        rows.append(
            {
                "id": str(uuid.uuid4()),
                "experiment_id": experiment_id,
                "step": step,
                "position": position,
                "status": ending if late else StepStatus.SUCCEEDED,
                "message": "",
                "started_at": created,
                "finished_at": created,
            }
        )
    return rows
