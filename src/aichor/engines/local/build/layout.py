"""The image's file tree: COPY/ADD/WORKDIR replayed into a directory, cached by file metadata.

Called by `build_image` on every build (cheap on a warm cache). The key hashes each copied file's
image path, size and modification time (no content read), so an unchanged repository reuses the
tree and an edited file gives a new one. Files are copied, never linked, so a workload writing
into its image can never change the researcher's repository. `.dockerignore` is honoured and
`.git` is always left out.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import posixpath
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from aichor.engines.local.build.plan import CopyOp

_ALWAYS_IGNORED = (".git",)


def layout_key(copies: Sequence[CopyOp], workdir: str, context: Path) -> str:
    """Digest of what the tree would contain: paths, sizes and mtimes of the copied files."""
    ignore = _Ignore.load(context)
    digest = hashlib.sha256(f"layout-1\0{workdir}".encode())
    for op in copies:
        digest.update(f"\0op\0{op.dest}\0".encode())
        if op.content is not None:
            digest.update(op.content.encode())
            continue
        for dest, source in _files(op, ignore, context):
            stat = source.stat()
            digest.update(f"{dest}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    return digest.hexdigest()


def ensure_layout(
    key: str, copies: Sequence[CopyOp], workdir: str, *, context: Path, cache_dir: Path
) -> tuple[Path, bool]:
    """The laid-out tree for `key` under cache_dir/layouts/: (root, reused)."""
    final = cache_dir / "layouts" / key[:32]
    if final.is_dir():
        return final, True
    final.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=f".tmp-{key[:12]}-", dir=final.parent))
    try:
        _materialise(temp, copies, workdir, context)
        try:
            temp.rename(final)
        except OSError:  # another build laid out the same key first
            shutil.rmtree(temp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return final, False


def _materialise(root: Path, copies: Sequence[CopyOp], workdir: str, context: Path) -> None:
    ignore = _Ignore.load(context)
    _inside(root, workdir).mkdir(parents=True, exist_ok=True)
    for op in copies:
        if op.content is not None:
            target = _inside(root, op.dest)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(op.content)
            continue
        if op.source is not None and op.source.is_dir():
            _inside(root, op.dest).mkdir(parents=True, exist_ok=True)
        for dest, source in _files(op, ignore, context):
            target = _inside(root, dest)
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_symlink() or target.is_file():
                target.unlink()
            shutil.copy2(source, target, follow_symlinks=False)


def _inside(root: Path, image_path: str) -> Path:
    """Map an absolute image path into the tree; normalisation keeps it under `root`."""
    relative = posixpath.normpath("/" + image_path).lstrip("/")
    return root / relative if relative else root


def _files(op: CopyOp, ignore: _Ignore, context: Path) -> Iterator[tuple[str, Path]]:
    """(image path, host file) pairs one COPY places, directories walked, ignored files left out."""
    if op.source is None:
        return
    if not op.source.is_dir():
        yield op.dest, op.source
        return
    for directory, subdirs, names in os.walk(op.source):
        base = Path(directory)
        subdirs[:] = sorted(d for d in subdirs if not ignore.match(base / d, context))
        for name in sorted(names):
            path = base / name
            if not ignore.match(path, context):
                yield posixpath.join(op.dest, path.relative_to(op.source).as_posix()), path


class _Ignore:
    """`.dockerignore` patterns (last match wins, `!` re-includes), plus `.git`."""

    def __init__(self, patterns: list[str]) -> None:
        self.patterns = patterns

    @classmethod
    def load(cls, context: Path) -> _Ignore:
        patterns = list(_ALWAYS_IGNORED)
        path = context / ".dockerignore"
        if path.is_file():
            for line in path.read_text(errors="replace").splitlines():
                line = line.strip()
                if line and not line.startswith("#"):
                    patterns.append(line.rstrip("/"))
        return cls(patterns)

    def match(self, path: Path, context: Path) -> bool:
        try:
            relative = path.relative_to(context).as_posix()
        except ValueError:
            return False  # files from other stages' sources are not filtered
        ignored = False
        for pattern in self.patterns:
            negate = pattern.startswith("!")
            bare = posixpath.normpath(pattern.lstrip("!").lstrip("/"))
            if _matches(relative, bare):
                ignored = not negate
        return ignored


def _matches(relative: str, pattern: str) -> bool:
    if fnmatch.fnmatchcase(relative, pattern):
        return True
    if pattern.startswith("**/"):
        return _matches(relative, pattern[3:]) or any(
            fnmatch.fnmatchcase(relative.split("/", i)[-1], pattern[3:])
            for i in range(1, relative.count("/") + 1)
        )
    return False
