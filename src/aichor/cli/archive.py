"""Pack a working tree into a tar.gz for `aichor experiments submit local`.

Uncommitted and untracked files are included, ignored ones are not: in a git repository the file
list is `git ls-files --cached --others --exclude-standard`; elsewhere a walk applies the
`.gitignore` files it meets. `.git` is never packed. Symbolic links are stored as links, never
followed; a link pointing outside the tree is left out (the server would reject it).
"""

from __future__ import annotations

import os
import re
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from aichor.errors import InvalidInput


@dataclass
class Archive:
    """The packed tree: a temporary file positioned at 0, and what went in or was left out."""

    file: IO[bytes]
    members: list[str]
    skipped: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        return os.fstat(self.file.fileno()).st_size


def pack_tree(root: Path, *, on_skip: Callable[[str], None] | None = None) -> Archive:
    """tar.gz of every non-ignored file under `root`, written to a temporary file (not memory)."""
    root = root.resolve()
    if not root.is_dir():
        raise InvalidInput(f"{root}: not a directory", field="directory")
    files = tracked_files(root)
    # The caller closes the file (Archive.file) once uploaded.
    spool = tempfile.TemporaryFile(prefix="aichor-archive-")  # noqa: SIM115
    archive = Archive(file=spool, members=[])
    with tarfile.open(fileobj=archive.file, mode="w:gz", compresslevel=6) as tar:
        for rel in files:
            reason = _unsafe(root, rel)
            if reason:
                archive.skipped.append(f"{rel}: {reason}")
                if on_skip:
                    on_skip(f"{rel}: {reason}")
                continue
            tar.add(root / rel, arcname=rel, recursive=False)
            archive.members.append(rel)
    archive.file.seek(0)
    return archive


def tracked_files(root: Path) -> list[str]:
    """Relative POSIX paths of the files to pack, sorted; directories are implied."""
    listed = _git_files(root)
    names = listed if listed is not None else list(_walk(root))
    result: set[str] = set()
    for rel in names:
        path = root / rel
        if ".git" in Path(rel).parts or not os.path.lexists(path):
            continue  # deleted in the working tree but still in the index
        if path.is_dir() and not path.is_symlink():
            result.update(_walk(path, prefix=f"{rel}/"))  # a submodule or nested repository
        else:
            result.add(rel)
    return sorted(result)


def _git_files(root: Path) -> list[str] | None:
    try:
        inside = subprocess.run(
            ["git", "rev-parse", "--is-inside-work-tree"],  # noqa: S607 - git from PATH
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )
        if inside.returncode != 0 or inside.stdout.strip() != "true":
            return None
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],  # noqa: S607
            cwd=root,
            capture_output=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None  # no git on this machine, or a broken repository: fall back to the walk
    return [name for name in listed.stdout.decode("utf-8", "surrogateescape").split("\0") if name]


def _unsafe(root: Path, rel: str) -> str | None:
    path = root / rel
    if not path.is_symlink():
        return None if path.is_file() else "not a regular file"
    target = (path.parent / os.readlink(path)).resolve()
    if target != root and root not in target.parents:
        return "symbolic link pointing outside the directory"
    return None


def _walk(root: Path, prefix: str = "") -> Iterable[str]:
    """Files under `root` not excluded by the `.gitignore` files on the way; links not followed."""
    rules: list[_Rule] = []
    yield from _walk_dir(root, prefix, "", rules)


def _walk_dir(top: Path, prefix: str, rel_dir: str, rules: list[_Rule]) -> Iterable[str]:
    here = top / rel_dir if rel_dir else top
    rules = rules + _read_rules(here / ".gitignore", rel_dir)
    try:
        entries = sorted(os.scandir(here), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        rel = f"{rel_dir}{entry.name}"
        is_dir = entry.is_dir(follow_symlinks=False)
        if entry.name == ".git" or _ignored(rules, rel, is_dir):
            continue
        if is_dir:
            yield from _walk_dir(top, prefix, f"{rel}/", rules)
        else:
            yield f"{prefix}{rel}"


@dataclass(frozen=True)
class _Rule:
    regex: re.Pattern[str]
    negated: bool
    dir_only: bool


def _read_rules(path: Path, base: str) -> list[_Rule]:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    rules = []
    for raw in lines:
        line = raw.rstrip() if not raw.endswith("\\ ") else raw
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = line[1:] if negated else line
        pattern = pattern.removeprefix("\\")
        dir_only = pattern.endswith("/")
        pattern = pattern.rstrip("/")
        anchored = "/" in pattern
        pattern = pattern.lstrip("/")
        body = _glob_to_regex(pattern)
        prefix = re.escape(base) if anchored else f"{re.escape(base)}(?:.*/)?"
        rules.append(_Rule(re.compile(f"^{prefix}{body}$"), negated, dir_only))
    return rules


def _glob_to_regex(pattern: str) -> str:
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("/**", i) and i + 3 == len(pattern):
            out.append("/.*")
            i += 3
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i + 1 :]:
            end = pattern.index("]", i + 1)
            out.append("[" + pattern[i + 1 : end].replace("!", "^", 1) + "]")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return "".join(out)


def _ignored(rules: list[_Rule], rel: str, is_dir: bool) -> bool:
    """Git's rule: the last matching pattern wins; an ignored directory hides all it contains."""
    verdict = False
    for rule in rules:
        if rule.dir_only and not is_dir:
            continue
        if rule.regex.match(rel):
            verdict = not rule.negated
    return verdict
