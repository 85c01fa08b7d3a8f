"""Cloning: the manifest's clone block is honoured, archives are checked before extraction."""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

import pytest

from aichor.errors import InvalidInput
from aichor.pipeline import clone
from tests.pipeline.conftest import MANIFEST, write_repo

CLONE_BLOCK = "clone:\n  depth: {depth}\n  includeDotGit: {dot_git}\n  submodules: {submodules}\n"


def _with_clone(folder: Path, *, depth: int, dot_git: bool, submodules: str = "false") -> str:
    write_repo(folder)
    write_repo(folder, command="python -c \"print('second')\"")
    manifest = folder / "aichor" / "manifest.yaml"
    block = CLONE_BLOCK.format(depth=depth, dot_git=str(dot_git).lower(), submodules=submodules)
    manifest.write_text(manifest.read_text().replace("spec:", block + "spec:", 1))
    return _commit(folder)


def _commit(folder: Path) -> str:
    git = ["git", "-C", str(folder), "-c", "user.email=t@example.com", "-c", "user.name=T"]
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "change"], check=True)
    out = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def _log_count(repo: Path) -> int:
    out = subprocess.run(
        ["git", "-C", str(repo), "rev-list", "--count", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout)


def test_depth_and_dot_git(tmp_path: Path) -> None:
    sha = _with_clone(tmp_path / "origin", depth=2, dot_git=True)
    target = tmp_path / "work"
    text, manifest = clone.clone_commit(
        (tmp_path / "origin").as_uri(), sha, "aichor/manifest.yaml", target, lambda _: None
    )
    assert manifest.clone.depth == 2 and "includeDotGit" in text
    assert _log_count(target) == 2


def test_dot_git_removed_by_default(tmp_path: Path) -> None:
    sha = write_repo(tmp_path / "origin")
    target = tmp_path / "work"
    clone.clone_commit(str(tmp_path / "origin"), sha, "aichor/manifest.yaml", target, print)
    assert (target / "Dockerfile").is_file() and not (target / ".git").exists()


def test_submodules(tmp_path: Path) -> None:
    write_repo(tmp_path / "child")
    origin = tmp_path / "origin"
    _with_clone(origin, depth=1, dot_git=True, submodules="true")
    git = ["git", "-C", str(origin), "-c", "protocol.file.allow=always"]
    subprocess.run(
        [*git, "submodule", "-q", "add", (tmp_path / "child").as_uri(), "child"], check=True
    )
    sha = _commit(origin)
    target = tmp_path / "work"
    clone.clone_commit(origin.as_uri(), sha, "aichor/manifest.yaml", target, lambda _: None)
    assert (target / "child" / "Dockerfile").is_file()


def test_missing_manifest_and_option_like_arguments(tmp_path: Path) -> None:
    sha = write_repo(tmp_path / "origin")
    with pytest.raises(InvalidInput, match="does not exist at commit"):
        clone.clone_commit(str(tmp_path / "origin"), sha, "nope.yaml", tmp_path / "w", print)
    with pytest.raises(InvalidInput):
        clone.clone_commit("--upload-pack=touch /tmp/x", sha, "m.yaml", tmp_path / "w", print)


def _member(
    name: str, kind: bytes = tarfile.REGTYPE, link: str = "", size: int = 1
) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    info.size = size if kind == tarfile.REGTYPE else 0
    return info


@pytest.mark.parametrize(
    "member",
    [
        _member("../up.txt"),
        _member("/etc/passwd"),
        _member("a/../../up.txt"),
        _member("link", tarfile.SYMTYPE, "/etc"),
        _member("dir/link", tarfile.SYMTYPE, "../../outside"),
        _member("hard", tarfile.LNKTYPE, "../outside"),
        _member("dev", tarfile.CHRTYPE),
        _member("fifo", tarfile.FIFOTYPE),
    ],
    ids=[
        "dotdot",
        "absolute",
        "nested-dotdot",
        "abs-symlink",
        "rel-symlink",
        "hardlink",
        "device",
        "fifo",
    ],
)
def test_escaping_members_rejected(member: tarfile.TarInfo, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput):
        clone.check_members([member])


def test_links_inside_the_tree_are_fine(tmp_path: Path) -> None:
    clone.check_members([_member("a/b.txt"), _member("a/c", tarfile.SYMTYPE, "b.txt")])


def test_archive_manifest_and_extraction(tmp_path: Path) -> None:
    archive = tmp_path / "a.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        data = MANIFEST.format(command="true", count=1, cpus=1).encode()
        info = tarfile.TarInfo("./aichor/manifest.yaml")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    assert "jobset" in clone.read_archive_manifest(archive, "aichor/manifest.yaml")
    with pytest.raises(InvalidInput, match="not in the archive"):
        clone.read_archive_manifest(archive, "other.yaml")
    clone.extract_archive(archive, tmp_path / "out", lambda _: None)
    assert (tmp_path / "out" / "aichor" / "manifest.yaml").read_bytes() == data
