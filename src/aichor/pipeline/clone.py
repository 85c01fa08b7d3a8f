"""Cloning: the experiment's code into `<workspace>/repo`, from a commit or an uploaded archive.

Commits: `git fetch --depth N <repository> <sha>` into a fresh repository (file:// URLs and
local paths work), honouring the manifest's `clone` block (depth, includeDotGit, submodules).
The manifest is read from the commit, so a path that does not exist fails this step.
Archives: every member is checked (no absolute paths, no `..`, no links leaving the tree, no
device files, size limits) before anything is written; extraction then uses tarfile's `data`
filter as a second guard. Commands are argv lists, never shell strings.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path

from aichor.errors import InvalidInput
from aichor.lifecycle import Step, StepStatus
from aichor.manifest import Manifest, load_manifest
from aichor.pipeline.submit import plan_gang
from aichor.pipeline.work import Context, Job, Result

MAX_ARCHIVE_BYTES = 2 * 1024**3
"""Largest total size of the files an archive may unpack to."""
MAX_ARCHIVE_MEMBERS = 200_000
_GIT_TIMEOUT = 600


def clone_commit(
    repository: str,
    commit_sha: str,
    manifest_path: str,
    repo_dir: Path,
    on_log: Callable[[str], None],
) -> tuple[str, Manifest]:
    """Check the commit out into `repo_dir`; return the manifest's text and parsed form."""
    if not repository or repository.startswith("-"):
        raise InvalidInput(f"the project's repository URL {repository!r} cannot be cloned")
    if not commit_sha or commit_sha.startswith("-"):
        raise InvalidInput(f"not a commit: {commit_sha!r}", field="commit_sha")
    _fresh(repo_dir)
    git = _Git(repo_dir, on_log)
    git.run("init", "-q")
    git.run("fetch", "-q", "--depth", "1", "--", repository, commit_sha)
    shown = git.output("show", f"FETCH_HEAD:{manifest_path}")
    if shown is None:
        raise InvalidInput(
            f"manifest {manifest_path!r} does not exist at commit {commit_sha}",
            field="manifest_path",
        )
    manifest = load_manifest(shown, source=manifest_path)
    clone = manifest.clone
    if clone.depth > 1:
        git.run("fetch", "-q", "--depth", str(clone.depth), "--", repository, commit_sha)
    git.run("checkout", "-q", "--detach", "FETCH_HEAD")
    if clone.include_dot_git and clone.submodules != "false":
        recursive = ["--recursive"] if clone.submodules == "recursive" else []
        git.run("-c", "protocol.file.allow=always", "submodule", "update", "--init", *recursive)
    if not clone.include_dot_git:
        shutil.rmtree(repo_dir / ".git")
    on_log(f"checked out {commit_sha} (depth {clone.depth}, .git kept: {clone.include_dot_git})")
    return shown, manifest


def extract_archive(archive: Path, repo_dir: Path, on_log: Callable[[str], None]) -> None:
    """Unpack a checked archive into a fresh `repo_dir`."""
    _fresh(repo_dir)
    with tarfile.open(archive, "r:*") as tar:
        members = tar.getmembers()
        check_members(members)
        tar.extractall(repo_dir, filter="data")
    on_log(f"unpacked {len(members)} entries from the uploaded archive")


def read_archive_manifest(archive: Path, manifest_path: str) -> str:
    """Check the archive and return the manifest's text from it (at submit)."""
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = tar.getmembers()
            check_members(members)
            wanted = posixpath.normpath(manifest_path.lstrip("/"))
            for member in members:
                if posixpath.normpath(member.name) == wanted and member.isfile():
                    handle = tar.extractfile(member)
                    if handle is not None:
                        return handle.read().decode(errors="replace")
    except (tarfile.TarError, EOFError, OSError) as error:
        raise InvalidInput(f"the archive cannot be read: {error}", field="archive") from error
    raise InvalidInput(f"manifest {manifest_path!r} is not in the archive", field="manifest_path")


def check_members(members: list[tarfile.TarInfo]) -> None:
    """Reject the whole archive if any member could write outside the tree or is too big."""
    if len(members) > MAX_ARCHIVE_MEMBERS:
        raise InvalidInput(
            f"the archive has {len(members)} entries (at most {MAX_ARCHIVE_MEMBERS})"
        )
    total = 0
    for member in members:
        _check_member(member)
        total += max(member.size, 0)
        if total > MAX_ARCHIVE_BYTES:
            raise InvalidInput(f"the archive unpacks to more than {MAX_ARCHIVE_BYTES} bytes")


def _check_member(member: tarfile.TarInfo) -> None:
    name = member.name
    if _escapes(name):
        raise InvalidInput(f"archive entry {name!r} points outside the tree", field="archive")
    if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
        raise InvalidInput(f"archive entry {name!r} is a device or special file", field="archive")
    if member.issym():
        target = posixpath.join(posixpath.dirname(name), member.linkname)
        if member.linkname.startswith("/") or _escapes(target):
            raise InvalidInput(
                f"archive symlink {name!r} -> {member.linkname!r} leaves the tree", field="archive"
            )
    if member.islnk() and _escapes(member.linkname):
        raise InvalidInput(
            f"archive hard link {name!r} -> {member.linkname!r} leaves the tree", field="archive"
        )


def _escapes(name: str) -> bool:
    if name.startswith("/") or "\\" in name or "\x00" in name:
        return True
    normal = posixpath.normpath(name)
    return normal == ".." or normal.startswith("../") or ".." in name.split("/")


def _fresh(repo_dir: Path) -> None:
    if repo_dir.exists():
        shutil.rmtree(repo_dir)
    repo_dir.mkdir(parents=True)


class _Git:
    """git with fixed argv in one directory, its stderr sent to the step log."""

    def __init__(self, cwd: Path, on_log: Callable[[str], None]) -> None:
        executable = shutil.which("git")
        if executable is None:
            raise InvalidInput("git is not installed on the server")
        self._git = executable
        self._cwd = cwd
        self._on_log = on_log
        self._env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true"}

    def run(self, *args: str) -> None:
        result = self._call(args)
        if result.returncode != 0:
            detail = result.stderr.strip().splitlines()
            raise InvalidInput(
                f"git {args[0]} failed: {detail[-1] if detail else result.returncode}"
            )

    def output(self, *args: str) -> str | None:
        result = self._call(args)
        return result.stdout if result.returncode == 0 else None

    def _call(self, args: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(  # noqa: S603 - fixed argv, no shell
            [self._git, *args],
            cwd=self._cwd,
            env=self._env,
            capture_output=True,
            text=True,
            timeout=_GIT_TIMEOUT,
            check=False,
        )
        for line in result.stderr.splitlines():
            self._on_log(line)
        return result


def act(job: Job, ctx: Context) -> Result:
    """The Cloning step: the code into the workspace; the manifest (re)read from it."""
    log = ctx.step_log(job, Step.CLONING)
    repo_dir = ctx.workspace(job) / "repo"
    if job.source_kind == "archive":
        extract_archive(ctx.settings.home / job.archive_key, repo_dir, log)
        return Result(StepStatus.SUCCEEDED, "archive unpacked")
    text, manifest = clone_commit(
        job.repository_url, job.commit_sha, job.manifest_path, repo_dir, log
    )
    # Sized now that the manifest is known (an archive was sized at submission): the list
    # shows what the gang holds, and usage is counted from it.
    need = plan_gang(manifest, job.id).peak_resources()
    return Result(
        StepStatus.SUCCEEDED,
        f"cloned {job.commit_sha[:12]}",
        updates={
            "manifest_text": text,
            "operator": manifest.spec.operator,
            "requested_cpus": need.cpus,
            "requested_memory_gib": need.memory_gib,
            "requested_gpus": need.gpus,
        },
    )
