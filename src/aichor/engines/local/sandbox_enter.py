"""Enter an image's file tree, then exec a command:
`sandbox_enter.py ROOT WORKDIR [--bind SRC=DST]... -- argv…`.

Run by path (`python -S -I …/sandbox_enter.py`, built by `sandbox.wrap_command`) on the hot path
of every replica start, so it imports only os, sys and ctypes. On Linux it makes a private mount
namespace (plus a user namespace when not root), builds a tmpfs root holding bind mounts of the
host's top-level entries, puts each of the image's top-level directories (e.g. /app) on top as an
overlay whose writes go to memory (the cached tree stays pristine, as an image does), chroots
there and changes to WORKDIR. Each `--bind` puts a host folder (a shared or attached volume) at
DST; a host top-level folder holding a DST becomes an overlay, so the mount point is made in
memory, never on the host. Without namespaces it runs in ROOT/WORKDIR and says so on stderr.
"""

from __future__ import annotations

import ctypes
import os
import sys

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
MNT_DETACH = 2
# Never shadowed by the image: the kernel's and the machine's own views.
SYSTEM = frozenset({"proc", "sys", "dev", "run"})


def main(args: list[str]) -> None:
    root, workdir, *rest = args
    binds: list[tuple[str, str]] = []
    while len(rest) >= 2 and rest[0] == "--bind":
        source, _, target = rest[1].partition("=")
        binds.append((source, target))
        rest = rest[2:]
    if not rest or rest[0] != "--" or len(rest) < 2:
        sys.exit("usage: sandbox_enter.py ROOT WORKDIR [--bind SRC=DST]... -- COMMAND...")
    argv = rest[1:]
    try:
        enter(root, workdir, binds)
    except OSError as error:
        print(
            f"aichor: no private mount namespace ({error}); running in {root}{workdir} — "
            "absolute paths into the image (e.g. /app/…) are not available",
            file=sys.stderr,
        )
        os.chdir(os.path.join(root, workdir.lstrip("/")))
    os.execvp(argv[0], argv)  # noqa: S606 - the replica's argv list, never a shell string


def enter(root: str, workdir: str, binds: list[tuple[str, str]]) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    uid, gid = os.getuid(), os.getgid()
    _check(libc.unshare(CLONE_NEWNS | (CLONE_NEWUSER if uid != 0 else 0)), "unshare")
    if uid != 0:
        # Same ids inside: the workload keeps its user; capabilities end at exec.
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{uid} {uid} 1")
        _write("/proc/self/gid_map", f"{gid} {gid} 1")
    _mount(libc, None, "/", None, MS_REC | MS_PRIVATE)
    new_root = root.rstrip("/") + ".mnt"
    _mount(libc, "tmpfs", new_root, "tmpfs", 0, "mode=755")
    image_entries = {e for e in os.listdir(root) if os.path.isdir(os.path.join(root, e))}
    # A host folder holding a mount point becomes an overlay too, so the mount point is made
    # in memory and never on the host's disk.
    bind_tops = {target.strip("/").split("/")[0] for _, target in binds} - SYSTEM
    host_only: set[str] = set()
    for entry in os.scandir("/"):
        if entry.name in image_entries and entry.name not in SYSTEM:
            continue
        if entry.name in bind_tops and entry.is_dir(follow_symlinks=False):
            host_only.add(entry.name)
            continue
        _expose_host_entry(libc, entry, os.path.join(new_root, entry.name))
    scratch = os.path.join(new_root, ".aichor-overlay")
    os.mkdir(scratch)
    _mount(libc, "tmpfs", scratch, "tmpfs", 0, "mode=700")
    for name in sorted(image_entries - SYSTEM):
        _overlay(libc, os.path.join(root, name), "/" + name, new_root, scratch)
    for name in sorted(host_only):
        _overlay(libc, "/" + name, "", new_root, scratch)
    for source, target in binds:
        _bind(libc, source, new_root, target)
    # The overlays keep their upper directories alive; the scratch mount need not be visible.
    _check(libc.umount2(scratch.encode(), MNT_DETACH), "umount2")
    os.rmdir(scratch)
    os.chroot(new_root)
    os.chdir(workdir)


def _expose_host_entry(libc: ctypes.CDLL, entry: os.DirEntry[str], target: str) -> None:
    if entry.is_symlink():
        os.symlink(os.readlink(entry.path), target)
    elif entry.is_dir():
        os.mkdir(target)
        _mount(libc, entry.path, target, None, MS_BIND | MS_REC)
    else:
        with open(target, "w"):
            pass
        _mount(libc, entry.path, target, None, MS_BIND)


def _bind(libc: ctypes.CDLL, source: str, new_root: str, target: str) -> None:
    """`source` at `target` inside the new root (a shared or attached volume)."""
    inside = os.path.join(new_root, target.strip("/"))
    os.makedirs(inside, exist_ok=True)
    _mount(libc, source, inside, None, MS_BIND | MS_REC)


def _overlay(libc: ctypes.CDLL, image_dir: str, host_dir: str, new_root: str, scratch: str) -> None:
    """The image's directory above the host's (when the host has one), writable in memory."""
    name = os.path.basename(image_dir)
    upper, work = os.path.join(scratch, "u-" + name), os.path.join(scratch, "w-" + name)
    os.mkdir(upper)
    os.mkdir(work)
    lower = image_dir + (":" + host_dir if host_dir and os.path.isdir(host_dir) else "")
    target = os.path.join(new_root, name)
    os.makedirs(target, exist_ok=True)
    if any(ch in path for path in (image_dir, host_dir) for ch in ":,\\"):
        _mount(libc, image_dir, target, None, MS_BIND | MS_REC)  # overlay cannot name it
        return
    _mount(
        libc, "overlay", target, "overlay", 0, f"lowerdir={lower},upperdir={upper},workdir={work}"
    )


def _mount(
    libc: ctypes.CDLL, source: str | None, target: str, kind: str | None, flags: int, data: str = ""
) -> None:
    def encode(text: str | None) -> bytes | None:
        return text.encode() if text is not None else None

    result = libc.mount(encode(source), encode(target), encode(kind), flags, encode(data or None))
    _check(result, f"mount {target}")


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _write(path: str, text: str) -> None:
    with open(path, "w") as stream:
        stream.write(text)


if __name__ == "__main__":
    main(sys.argv[1:])
