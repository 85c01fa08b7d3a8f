"""What a local run knows about its experiment: git metadata, the user, local bucket folders."""

from __future__ import annotations

import getpass
import shutil
import subprocess
import uuid
from pathlib import Path

from aichor.experiment_env import ExperimentFacts
from aichor.home import AichorHome


def local_facts(
    repo_dir: Path, experiment_id: str, settings: AichorHome, *, message: str | None
) -> ExperimentFacts:
    """Facts for `aichor run`: buckets are local folders under AICHOR_HOME, VCS_TYPE is `local`."""
    project = repo_dir.name or "project"
    # A stable id per repository, so outputs of successive runs land in the same project folders.
    project_id = str(uuid.uuid5(uuid.NAMESPACE_URL, repo_dir.as_uri()))
    buckets = settings.buckets_dir / project
    input_dir = buckets / "input"
    output_dir = buckets / "output"
    input_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "output" / experiment_id).mkdir(parents=True, exist_ok=True)
    (output_dir / "tensorboard" / experiment_id).mkdir(parents=True, exist_ok=True)
    git = _GitFacts(repo_dir)
    return ExperimentFacts(
        experiment_id=experiment_id,
        project_id=project_id,
        message=message if message is not None else git.value("log", "-1", "--format=%s"),
        vcs_sha=git.value("rev-parse", "HEAD"),
        vcs_branch=git.value("rev-parse", "--abbrev-ref", "HEAD"),
        vcs_type="local",
        user_name=git.value("config", "user.name") or getpass.getuser(),
        user_email=git.value("config", "user.email"),
        cluster_name="local",
        input_path=f"{input_dir}/",
        output_bucket=f"{output_dir}/",
        output_bucket_name=f"{project}-output",
    )


class _GitFacts:
    """Reads git metadata when the directory is a git checkout; empty strings otherwise."""

    def __init__(self, repo_dir: Path) -> None:
        self._repo_dir = repo_dir
        self._git = shutil.which("git")
        self._enabled = self._git is not None and (repo_dir / ".git").exists()

    def value(self, *args: str) -> str:
        if not self._enabled or self._git is None:
            return ""
        result = subprocess.run(  # noqa: S603 - fixed argv, no shell
            [self._git, "-C", str(self._repo_dir), *args],
            capture_output=True,
            text=True,
            check=False,
        )
        return result.stdout.strip() if result.returncode == 0 else ""
