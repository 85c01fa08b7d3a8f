"""Build an image without Docker: a cached uv environment plus the Dockerfile's file tree.

Handed a BuildRequest by the local engine; returns an ImageRef whose `python_env` is the virtual
environment and whose `root` holds the files COPY/ADD put in the image. May import only the
standard library, aichor.engines.base and aichor.errors. Modules, in call order: dockerfile
(parse) → plan (replay, with run_commands for RUN lines) → base_images → environment, layout.
"""

from __future__ import annotations

import hashlib
import platform
import sys
from collections.abc import Callable
from pathlib import Path

from aichor.engines.base import BuildRequest, ImageRef
from aichor.engines.local.build import base_images, dockerfile, environment, layout
from aichor.engines.local.build.plan import BuildPlan, make_plan
from aichor.errors import InvalidInput, NotFound

__all__ = ["build_image"]


def build_image(
    request: BuildRequest, *, cache_dir: Path, on_log: Callable[[str], None]
) -> ImageRef:
    """Replay the Dockerfile: reuse or build its environment, lay out its files."""
    repo = request.repo_dir.resolve()
    context = _inside_repo(repo, request.context_dir, "builder.context")
    path = _inside_repo(repo, request.dockerfile, "builder.dockerfile")
    if not path.is_file():
        raise NotFound(f"builder.dockerfile: {path} does not exist")
    if not context.is_dir():
        raise NotFound(f"builder.context: {context} is not a directory")
    parsed = dockerfile.parse(path.read_text(errors="replace"), build_args=request.build_args)
    plan = make_plan(parsed, context=context, build_args=dict(request.build_args),
                     target=request.target)  # fmt: skip
    for note in plan.notes:
        on_log(note)
    packages = _base_packages(plan, on_log)
    key = environment.environment_key(packages, plan.steps, env=request.env)
    venv, cached = environment.ensure_environment(
        key, packages, plan.steps, cache_dir=cache_dir, on_log=on_log, env=request.env
    )
    tree_key = layout.layout_key(plan.copies, plan.workdir, context)
    root, _ = layout.ensure_layout(tree_key, plan.copies, plan.workdir, context=context,
                                   cache_dir=cache_dir)  # fmt: skip
    ref = hashlib.sha256(f"{key}\0{tree_key}".encode()).hexdigest()[:16]
    on_log(f"image local:{ref} (workdir {plan.workdir})")
    return ImageRef(ref=f"local:{ref}", root=root, workdir=plan.workdir, env=dict(plan.env),
                    python_env=venv, cached=cached)  # fmt: skip


def _inside_repo(repo: Path, path: Path, field: str) -> Path:
    """Absolute, `..` and symlinked paths are accepted only when they stay in the repository."""
    resolved = (repo / path).resolve()
    if not resolved.is_relative_to(repo):
        raise InvalidInput(f"{field}: {path} is outside the repository {repo}", field=field,
                           value=str(path))  # fmt: skip
    return resolved


def _base_packages(plan: BuildPlan, on_log: Callable[[str], None]) -> list[str]:
    """The packages the base images carry; a Python version differing from ours is noted."""
    packages: list[str] = []
    ours = f"{sys.version_info.major}.{sys.version_info.minor}"
    for image in plan.bases:
        described = base_images.describe(image)
        if described.note:
            on_log(described.note)
        if described.python and described.python != ours:
            on_log(f"NOTE: {image} has Python {described.python}; this machine's Python "
                   f"{platform.python_version()} is used")  # fmt: skip
        packages += [spec for spec in described.packages if spec not in packages]
        if described.packages:
            on_log(f"{image} provides {', '.join(described.packages)}")
    return packages
