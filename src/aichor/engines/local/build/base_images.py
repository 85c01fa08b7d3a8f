"""Well-known base images → the Python packages they carry, installed into the local environment.

Called by `build_image`. One table, matched on the image's repository name (registry and digest
stripped); the tag gives the version. Images that only carry an interpreter (`python:3.11-slim`)
add nothing, but their Python version is compared with the machine's and a difference is noted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_VERSION = re.compile(r"^v?(\d+(?:\.\d+){0,2})")
_PY_TAG = re.compile(r"(?:^|[-_])py(?:thon)?(\d)\.?(\d+)")


@dataclass(frozen=True)
class BaseImage:
    """What a base image means for the local environment."""

    packages: tuple[str, ...]
    """Requirement specs; an exact pin may be relaxed to the nearest installable version."""
    python: str | None
    """The image's Python major.minor when the tag says it, e.g. '3.11'."""
    note: str | None = None


def _pinned(spec: str) -> Callable[[str], tuple[str, ...]]:
    """`spec==<version from tag>`, or the bare spec when the tag has no version (`latest`)."""

    def packages(tag: str) -> tuple[str, ...]:
        match = _VERSION.match(tag)
        return (f"{spec}=={match.group(1)}",) if match else (spec,)

    return packages


def _none(tag: str) -> tuple[str, ...]:
    return ()


# repository name (without registry) → packages from the tag. Order does not matter.
_TABLE: dict[str, Callable[[str], tuple[str, ...]]] = {
    "rayproject/ray": _pinned("ray[default]"),
    "rayproject/ray-ml": _pinned("ray[default]"),
    "anyscale/ray": _pinned("ray[default]"),
    "pytorch/pytorch": _pinned("torch"),
    "tensorflow/tensorflow": _pinned("tensorflow"),
    "nvidia/jax": _none,  # tags are dates (jax-2024-05-01); see _UNVERSIONED
    "python": _none,
    "astral-sh/uv": _none,
    "library/python": _none,
}
# Images whose tags are not package versions: the package is installed unpinned.
_UNVERSIONED: dict[str, tuple[str, ...]] = {
    "nvidia/pytorch": ("torch",),
    "nvidia/jax": ("jax",),
    "huggingface/transformers-pytorch-cpu": ("torch", "transformers"),
    "huggingface/transformers-pytorch-gpu": ("torch", "transformers"),
}
_OS_IMAGES = frozenset(
    {"ubuntu", "debian", "alpine", "fedora", "centos", "rockylinux", "nvidia/cuda", "busybox",
     "amazonlinux", "continuumio/miniconda3", "condaforge/miniforge3", "scratch"}
)  # fmt: skip


def describe(image: str) -> BaseImage:
    """Look an image reference (`registry/repo:tag@digest`) up in the table."""
    repository, tag = split_reference(image)
    python = _python_version(repository, tag)
    if repository in _UNVERSIONED:
        return BaseImage(_UNVERSIONED[repository], python, f"{image}: tag is not a package "
                         "version; installing the latest release")  # fmt: skip
    if repository in _TABLE:
        return BaseImage(_TABLE[repository](tag), python)
    if repository in _OS_IMAGES:
        return BaseImage((), python, f"{image}: OS image; the machine's Python is used")
    return BaseImage((), python, f"{image}: unknown base image; no packages assumed from it")


def split_reference(image: str) -> tuple[str, str]:
    """`ghcr.io/org/name:tag@sha256:…` → ('org/name', 'tag'); Docker Hub's library/ dropped."""
    image = image.split("@", 1)[0]
    name, _, tag = image.rpartition(":") if ":" in image.rsplit("/", 1)[-1] else (image, "", "")
    parts = name.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = parts[1:]
    if parts[:1] == ["library"]:
        parts = parts[1:]
    return "/".join(parts).lower(), tag or "latest"


def _python_version(repository: str, tag: str) -> str | None:
    if repository in {"python", "astral-sh/uv"}:
        match = re.search(r"(?:^|python)(\d)\.(\d+)", tag)
        return f"{match.group(1)}.{match.group(2)}" if match else None
    match = _PY_TAG.search(tag)
    return f"{match.group(1)}.{match.group(2)}" if match else None
