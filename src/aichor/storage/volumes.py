"""The local equivalents of the manifest's volumes (`spec.storage`), as host folders.

Who calls it: the Submitting step (`volume_mounts`, the folders the engine binds into every
replica) and the Running step (`remove_shared_volume` once the workload has ended).

- `sharedVolume`: `<home>/volumes/shared/<experiment id>/`, created at submit, seen by every
  replica at its `mountPoint`, removed when the experiment ends (`sizeGB`, `accessMode` and
  `storageClass` have no local meaning and are not enforced).
- `attachExistingPVCs`: `<home>/volumes/projects/<project id>/<pvc name>/`, persistent per
  project (created on first use, like a claim that already exists), at each `mountPoint`.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from aichor.errors import InvalidInput
from aichor.manifest.blocks import Storage
from aichor.settings import Settings

PVC_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")
"""A Kubernetes object name (DNS-1123 subdomain): one safe folder name, never `..`."""
RESERVED = ("/proc", "/sys", "/dev", "/run")


def shared_volume_dir(settings: Settings, experiment_id: str) -> Path:
    return settings.home / "volumes" / "shared" / experiment_id


def project_volume_dir(settings: Settings, project_id: str, name: str) -> Path:
    if len(name) > 253 or not PVC_NAME.match(name):
        raise InvalidInput(
            f"PVC name {name!r} must be lower-case letters, digits, '-' and '.' "
            "(a Kubernetes name)",
            field="spec.storage.attachExistingPVCs.name",
        )
    return settings.home / "volumes" / "projects" / project_id / name


def volume_mounts(
    settings: Settings, storage: Storage | None, project_id: str, experiment_id: str
) -> list[tuple[Path, str]]:
    """(host folder, mount point) for each volume of `spec.storage`, folders created."""
    if storage is None:
        return []
    mounts: list[tuple[Path, str]] = []
    for pvc in storage.attach_existing_pvcs or []:
        mounts.append((project_volume_dir(settings, project_id, pvc.name), pvc.mount_point))
    if storage.shared_volume is not None:
        shared = shared_volume_dir(settings, experiment_id)
        mounts.append((shared, storage.shared_volume.mount_point))
    for folder, target in mounts:
        _check_target(target)
        folder.mkdir(parents=True, exist_ok=True)
    return mounts


def remove_shared_volume(settings: Settings, experiment_id: str) -> None:
    shutil.rmtree(shared_volume_dir(settings, experiment_id), ignore_errors=True)


def _check_target(target: str) -> None:
    normalised = "/" + "/".join(p for p in target.split("/") if p)
    parts = normalised.split("/")
    if ".." in parts or "." in parts or normalised == "/":
        raise InvalidInput(
            f"mount point {target!r} must be a plain absolute path", field="mountPoint"
        )
    if any(normalised == r or normalised.startswith(r + "/") for r in RESERVED):
        raise InvalidInput(
            f"mount point {target!r} is inside {', '.join(RESERVED)}, which the system keeps",
            field="mountPoint",
        )
