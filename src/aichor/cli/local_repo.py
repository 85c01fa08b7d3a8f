"""`aichor local-repo init [DIR]`: scaffold a repository that `aichor run` and the server run as-is.

Writes the layout of the AIchor docs: Dockerfile (uv), README.md, pyproject.toml,
aichor_manifests/manifest.yaml and src/<package>/{__init__,main}.py, for one operator and one
resource profile, asked interactively or given as flags. The files come from
local_repo_templates.py.
"""

from __future__ import annotations

import re
from pathlib import Path
from string import Template
from typing import Annotated

import typer

from aichor.cli.local_repo_templates import (
    DOCKERFILE,
    INIT,
    MANIFEST,
    OPERATORS,
    PYPROJECT,
    README,
    OperatorTemplate,
)
from aichor.errors import Conflict, InvalidInput

app = typer.Typer(help="Prepare a repository for AIchor.", no_args_is_help=True)

# profile → (CPUs per replica, ramRatio GiB per CPU, GPUs per replica)
PROFILES: dict[str, tuple[str, str, int]] = {
    "small": ("1", "2", 0),
    "medium": ("2", "4", 0),
    "gpu": ("4", "8", 1),
}
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")


@app.command()
def init(
    directory: Annotated[
        Path | None, typer.Argument(help="Where to create it (default: ./<name>).")
    ] = None,
    operator: Annotated[
        str | None, typer.Option("--operator", help=f"One of: {', '.join(OPERATORS)}.")
    ] = None,
    profile: Annotated[
        str | None, typer.Option("--profile", help=f"One of: {', '.join(PROFILES)}.")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Project name (lowercase).")] = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Ask nothing; defaults for what is not given.")
    ] = False,
) -> None:
    """Generate Dockerfile, README.md, pyproject.toml, the manifest and src/<name>/main.py."""
    default_name = _slug(directory.resolve().name) if directory else "my-experiment"
    operator = _choose("Operator", operator, list(OPERATORS), "jobset", yes)
    profile = _choose("Resource profile", profile, list(PROFILES), "small", yes)
    name = name or (default_name if yes else typer.prompt("Project name", default=default_name))
    if not _NAME.match(name):
        raise InvalidInput(
            f"project name {name!r}: lowercase letters, digits, - and _, starting with a letter",
            field="--name",
        )
    target = directory or Path(name)
    files = render_files(name, operator, profile)
    write_files(target, files)
    typer.echo(f"Created {target}/ ({operator}, profile {profile}): {len(files)} files.")
    typer.echo(f"Run it here with `aichor run {target}`.")


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-_")
    return slug if _NAME.match(slug) else "my-experiment"


def _choose(label: str, given: str | None, choices: list[str], default: str, yes: bool) -> str:
    value = given or (default if yes else None)
    if value is None:
        value = typer.prompt(f"{label} ({', '.join(choices)})", default=default)
    if value not in choices:
        flag = "--" + label.split()[-1].lower()
        raise InvalidInput(f"{flag} {value!r}: expected one of {', '.join(choices)}", field=flag)
    return value


def render_files(name: str, operator: str, profile: str) -> dict[str, str]:
    """Relative path → text of every generated file."""
    template = OPERATORS[operator]
    package = name.replace("-", "_")
    values = {
        "name": name,
        "package": package,
        "image": name,
        "operator": operator,
        "profile": profile,
        "summary": template.summary,
        "dependencies": ", ".join(f'"{dep}"' for dep in template.dependencies),
        "docker_env": "".join(f" \\\n    {k}={v}" for k, v in _env(template, profile).items()),
        "env": _manifest_env(_env(template, profile)),
        "types": _types(template, operator, profile),
    }
    return {
        "Dockerfile": Template(DOCKERFILE).substitute(values),
        "README.md": Template(README).substitute(values),
        "pyproject.toml": Template(PYPROJECT).substitute(values),
        ".gitignore": "__pycache__/\n*.pyc\n.venv/\n",
        "aichor_manifests/manifest.yaml": Template(MANIFEST).substitute(values),
        f"src/{package}/__init__.py": Template(INIT).substitute(values),
        f"src/{package}/main.py": template.main,
    }


def _env(template: OperatorTemplate, profile: str) -> dict[str, str]:
    env = dict(template.env)
    if profile == "gpu":
        env.pop("JAX_PLATFORMS", None)  # let JAX find the GPUs
    return env


def _manifest_env(env: dict[str, str]) -> str:
    if not env:
        return ""
    return "\n  env:" + "".join(f'\n    {key}: "{value}"' for key, value in env.items())


def _types(template: OperatorTemplate, operator: str, profile: str) -> str:
    cpus, ram, gpus = PROFILES[profile]
    if operator == "jobset" and profile == "small":
        cpus = "0.25"  # two pods at a time fit any laptop, as in examples/jobset

    def gpu(indent: str) -> str:
        if not gpus:
            return ""
        return (
            f"\n{indent}accelerators:\n{indent}  gpu:\n{indent}    count: {gpus}\n"
            f"{indent}    type: gpu"
        )

    return Template(template.types).substitute(
        cpus=cpus, ram=ram, gpu=gpu(" " * 8), gpu_pool=gpu(" " * 10)
    )


def write_files(target: Path, files: dict[str, str]) -> None:
    """Write every file, refusing to overwrite anything that exists."""
    existing = [rel for rel in files if (target / rel).exists()]
    if existing:
        raise Conflict(f"{target / existing[0]} already exists; choose an empty directory")
    for rel, text in files.items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
