"""`spec.storage` on the local engine, through the pipeline: every replica sees the shared volume
at its mount point (each reads the file the other wrote), the volume is removed when the
experiment ends, and an attached project volume keeps its files from one experiment to the next.
Without an S3 endpoint running, replicas get the buckets as local folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from aichor.db.session import Engine, Session
from aichor.lifecycle import ExperimentStatus
from aichor.services import experiments, logs
from aichor.storage.volumes import project_volume_dir, shared_volume_dir
from tests.pipeline.conftest import World, run_archive, write_repo

MANIFEST = """\
kind: AIchorManifest
apiVersion: 0.2.3
builder:
  image: tiny
  dockerfile: ./Dockerfile
  context: .
spec:
  operator: jobset
  image: tiny
  command: python main.py
  storage:
    sharedVolume:
      mountPoint: /mnt/team/shared
      sizeGB: 1
      accessMode: ReadWriteMany
    attachExistingPVCs:
      - name: datasets
        mountPoint: /datasets
  types:
    worker:
      count: 2
      resources:
        cpus: 0.25
        ramRatio: 1
"""
WORKLOAD = """\
import os, time
index = os.environ["JOB_INDEX"]
with open(f"/mnt/team/shared/from-{index}", "w") as handle:
    handle.write(index)
deadline = time.monotonic() + 60
while len(os.listdir("/mnt/team/shared")) < 2 and time.monotonic() < deadline:
    time.sleep(0.05)
print(f"replica {index} sees", sorted(os.listdir("/mnt/team/shared")), flush=True)
with open(f"/datasets/run-{os.environ['AICHOR_EXPERIMENT_ID']}-{index}", "w") as handle:
    handle.write("kept")
print("input at", os.environ["AICHOR_INPUT_PATH"], flush=True)
"""


def _run(world: World, db: Session, db_engine: Engine, repo: Path) -> tuple[str, list[str]]:
    experiment_id = run_archive(world, db, db_engine, repo)
    done = experiments.get_experiment(db, world.actor, experiment_id)
    page = logs.read_logs(db, world.actor, experiment_id, settings=world.settings)
    texts = [line.text for line in page.lines]
    assert done.status == ExperimentStatus.SUCCEEDED, (done, texts[-20:])
    return experiment_id, texts


def test_shared_and_attached_volumes(
    world: World, db: Session, db_engine: Engine, tmp_path: Path
) -> None:
    if not Path("/proc/self/ns/mnt").exists():
        pytest.skip("needs mount namespaces (Linux)")
    repo = tmp_path / "repo"
    write_repo(repo, files={"main.py": WORKLOAD, "aichor/manifest.yaml": MANIFEST})
    first, texts = _run(world, db, db_engine, repo)
    for index in ("0", "1"):
        assert f"replica {index} sees ['from-0', 'from-1']" in texts
    assert not shared_volume_dir(world.settings, first).exists()
    assert not Path("/mnt/team").exists()  # the mount point was made in memory only
    inputs = [t for t in texts if t.startswith("input at ")]
    assert inputs and Path(inputs[0].removeprefix("input at ")).is_dir()

    second, _ = _run(world, db, db_engine, repo)
    kept = project_volume_dir(world.settings, world.project.id, "datasets")
    assert sorted(p.name for p in kept.iterdir()) == sorted(
        f"run-{e}-{i}" for e in (first, second) for i in ("0", "1")
    )
