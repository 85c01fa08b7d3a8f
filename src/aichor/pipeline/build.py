"""Building: the engine builds the image from the checked-out code; its log is the step's log.

The project's build-time variables are build arguments (the manifest's `builder.buildArgs` win
on a clash, as `spec.env` wins over runtime variables) and the environment of the build's own
commands. The resulting `ImageRef` is saved as `<workspace>/image.json`, so Submitting (possibly in
another worker after a crash) finds it without building again.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from aichor.engines.base import BuildRequest, ImageRef
from aichor.errors import InvalidInput
from aichor.lifecycle import Step, StepStatus
from aichor.manifest import load_manifest
from aichor.pipeline.work import Context, Job, Result


def act(job: Job, ctx: Context) -> Result:
    repo_dir = ctx.workspace(job) / "repo"
    if not repo_dir.is_dir():
        raise InvalidInput("the workspace was lost; resubmit the experiment")
    job.check_variables()
    builder = load_manifest(job.manifest_text, source=job.manifest_path).builder
    manifest_args = {key: _arg_text(value) for key, value in builder.build_args.items()}
    request = BuildRequest(
        repo_dir=repo_dir,
        context_dir=_inside(repo_dir, builder.context, "builder.context"),
        dockerfile=_inside(repo_dir, builder.dockerfile, "builder.dockerfile"),
        build_args={**job.build_variables, **manifest_args},
        target=builder.target,
        env=job.build_variables,
    )
    image = ctx.engine.build(request, on_log=ctx.step_log(job, Step.BUILDING))
    save_image(ctx.workspace(job) / "image.json", image)
    return Result(
        StepStatus.SUCCEEDED, f"image {image.ref[:12]}" + (" (cached)" if image.cached else "")
    )


def save_image(path: Path, image: ImageRef) -> None:
    record = {
        "ref": image.ref,
        "root": str(image.root) if image.root else None,
        "workdir": image.workdir,
        "env": dict(image.env),
        "python_env": str(image.python_env) if image.python_env else None,
        "cached": image.cached,
    }
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(record))
    os.replace(temporary, path)


def load_image(path: Path) -> ImageRef:
    record = json.loads(path.read_text())
    return ImageRef(
        ref=record["ref"],
        root=Path(record["root"]) if record["root"] else None,
        workdir=record["workdir"],
        env=record["env"],
        python_env=Path(record["python_env"]) if record["python_env"] else None,
        cached=record["cached"],
    )


def _inside(repo_dir: Path, relative: str, field: str) -> Path:
    candidate = (repo_dir / relative).resolve()
    root = repo_dir.resolve()
    if candidate != root and root not in candidate.parents:
        raise InvalidInput(f"{field}: {relative!r} points outside the repository", field=field)
    return candidate


def _arg_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
