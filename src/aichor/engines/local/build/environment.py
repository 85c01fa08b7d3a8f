"""The image's Python environment: a uv virtual environment, cached by a hash of what shapes it.

Called by `build_image`. The key covers the base images' packages, every install step (with the
content, not the location, of the files it reads), the interpreter and platform, and the UV_*
settings that change resolution (find-links, indexes). An environment is built in a temporary
directory and renamed into place only when complete, so a half-built one is never used; two
concurrent builds of the same key both succeed and one result is kept.
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from aichor.engines.local.build.plan import PythonStep
from aichor.errors import BuildFailed

MARKER = "aichor-env.json"
_KEY_VERSION = "aichor-env-1"
# Settings that change which distributions uv picks; copied into the key.
_RESOLUTION_SETTINGS = ("UV_FIND_LINKS", "UV_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_DEFAULT_INDEX",
                        "UV_INDEX", "UV_INDEX_STRATEGY", "UV_PRERELEASE")  # fmt: skip
_PIN = re.compile(r"^([A-Za-z0-9_.-]+)(\[[^\]]*\])?==([^,;\s]+)$")
Log = Callable[[str], None]


def uv_executable() -> str:
    """uv is a dependency of aichor: next to our interpreter, else on PATH."""
    beside = Path(sys.executable).with_name("uv")
    found = str(beside) if beside.exists() else shutil.which("uv")
    if found is None:
        raise BuildFailed("uv not found next to the Python interpreter nor on PATH")
    return found


def environment_key(
    bases: Sequence[str], steps: Sequence[PythonStep], *, env: Mapping[str, str] | None = None
) -> str:
    """Hex digest of everything that decides the environment's contents (`env`: the build's
    extra environment, whose UV_* resolution settings win over ours)."""
    settings = {**os.environ, **(env or {})}
    parts: list[object] = [
        _KEY_VERSION,
        os.path.realpath(sys.executable),
        list(sys.version_info[:3]),
        sys.platform,
        platform.machine(),
        {name: settings.get(name, "") for name in _RESOLUTION_SETTINGS},
        list(bases),
    ]
    for step in steps:
        parts.append([step.kind, [_portable(arg, step) for arg in step.args], step.image_dir,
                      [_file_digest(path) for path in step.files]])  # fmt: skip
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _portable(arg: str, step: PythonStep) -> str:
    """Host paths differ between checkouts of the same repository; their content does not."""
    return "<file>" if any(arg == str(path) for path in step.files) else arg


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def ensure_environment(
    key: str,
    packages: Sequence[str],
    steps: Sequence[PythonStep],
    *,
    cache_dir: Path,
    on_log: Log,
    env: Mapping[str, str] | None = None,
) -> tuple[Path, bool]:
    """The environment for `key`: reused when complete, else built atomically. (path, cached)."""
    final = cache_dir / "envs" / key[:32]
    if (final / MARKER).is_file():
        on_log(f"environment cache hit ({final})")
        return final, True
    final.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=f".tmp-{key[:12]}-", dir=final.parent))
    try:
        _build(temp, packages, steps, on_log, env or {})
        (temp / MARKER).write_text(json.dumps({"key": key, "python": sys.executable}))
        try:
            temp.rename(final)
        except OSError:
            on_log("environment built concurrently by another build; using that one")
            shutil.rmtree(temp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return final, False


def _build(
    venv: Path,
    packages: Sequence[str],
    steps: Sequence[PythonStep],
    on_log: Log,
    env: Mapping[str, str],
) -> None:
    uv = _Uv(venv, on_log, env)
    on_log(f"creating the environment with {sys.executable} ({platform.python_version()})")
    uv.run(["venv", "--quiet", "--relocatable", "--python", sys.executable, str(venv)])
    for spec in packages:
        _install_base_package(uv, spec, on_log)
    import_roots: list[str] = []
    for step in steps:
        on_log(f"installing (Dockerfile line {step.line})")
        if step.kind == "packages":
            uv.pip_install(step.args, cwd=step.cwd)
        elif step.kind == "sync":
            _sync(uv, step)
        else:
            _project_dependencies(uv, step)
        if step.project_dir is not None and step.image_dir is not None:
            import_roots += _import_roots(step.project_dir, step.image_dir)
    if import_roots:
        # The project's own code is imported from its place in the image, like an editable
        # install: code edits need no rebuild, only dependency changes do.
        site = next(venv.glob("lib/python*/site-packages"))
        (site / "_aichor_project.pth").write_text("\n".join(dict.fromkeys(import_roots)) + "\n")


def _install_base_package(uv: _Uv, spec: str, on_log: Log) -> None:
    """Install a base image's package, relaxing an exact pin that cannot install here."""
    on_log(f"installing {spec} (from the base image)")
    if uv.pip_install([spec], check=False):
        return
    pin = _PIN.match(spec)
    nearest = _nearest_version(uv, pin.group(1), pin.group(3)) if pin else None
    if pin is None or nearest is None or nearest == pin.group(3):
        raise BuildFailed(f"could not install {spec} from the base image:\n{uv.tail()}")
    on_log(f"NOTE: {spec} cannot be installed for Python {platform.python_version()} on this "
           f"machine; installing the nearest available version {nearest} instead")  # fmt: skip
    uv.pip_install([f"{pin.group(1)}{pin.group(2) or ''}=={nearest}"])


def _nearest_version(uv: _Uv, name: str, version: str) -> str | None:
    """Highest version at or below `version` that resolves here, else the lowest above it."""
    for requirement, resolution in ((f"{name}<={version}", "highest"),
                                    (f"{name}>{version}", "lowest-direct")):  # fmt: skip
        output = uv.capture(["pip", "compile", "-", "--quiet", "--no-header", "--no-annotate",
                             "--python", str(uv.python), "--resolution", resolution],
                            stdin=requirement)  # fmt: skip
        for line in (output or "").splitlines():
            found_name, _, found = line.strip().partition("==")
            if _normalise(found_name) == _normalise(name):
                return found
    return None


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _sync(uv: _Uv, step: PythonStep) -> None:
    """`uv sync` into our environment, from a copy of pyproject.toml/uv.lock (uv may write)."""
    assert step.project_dir is not None  # noqa: S101 - plan.py always sets it for sync steps
    with tempfile.TemporaryDirectory(prefix="aichor-sync-") as project:
        for name in ("pyproject.toml", "uv.lock", "README.md"):
            if (step.project_dir / name).is_file():
                shutil.copy2(step.project_dir / name, Path(project) / name)
        flags = list(step.args)
        if (Path(project) / "uv.lock").is_file() and "--locked" not in flags:
            flags.append("--frozen")
        uv.run(["sync", "--inexact", "--no-install-project", "--python", str(uv.python),
                *dict.fromkeys(f for f in flags if f != "--no-install-project")],
               cwd=Path(project), extra_env={"UV_PROJECT_ENVIRONMENT": str(uv.venv)})  # fmt: skip


def _project_dependencies(uv: _Uv, step: PythonStep) -> None:
    """`pip install .`: the project's dependencies (its code is imported in place)."""
    assert step.project_dir is not None  # noqa: S101 - plan.py always sets it for project steps
    for name in ("pyproject.toml", "setup.py", "setup.cfg"):
        if (step.project_dir / name).is_file():
            uv.pip_install(["-r", str(step.project_dir / name), *step.args])
            return
    raise BuildFailed(f"{step.image_dir} has no pyproject.toml or setup.py to install")


def _import_roots(project_dir: Path, image_dir: str) -> list[str]:
    pyproject = project_dir / "pyproject.toml"
    is_package = (project_dir / "setup.py").is_file() or (
        pyproject.is_file() and "[build-system]" in pyproject.read_text(errors="replace")
    )
    if not is_package:
        return []
    return [f"{image_dir.rstrip('/')}/src" if (project_dir / "src").is_dir() else image_dir]


class _Uv:
    """Runs uv against one environment, streaming its output to the build log."""

    def __init__(self, venv: Path, on_log: Log, build_env: Mapping[str, str]) -> None:
        self.venv = venv
        self.build_env = dict(build_env)
        self.python = venv / "bin" / "python"
        self.on_log = on_log
        self.executable = uv_executable()
        self.lines: collections.deque[str] = collections.deque(maxlen=25)

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "UV_PYTHON"}}
        return {
            **env,
            **self.build_env,
            "UV_PYTHON_DOWNLOADS": "never",
            "NO_COLOR": "1",
            **(extra or {}),
        }

    def pip_install(
        self, args: Sequence[str], *, cwd: Path | None = None, check: bool = True
    ) -> bool:
        return self.run(
            ["pip", "install", "--python", str(self.python), *args], cwd=cwd, check=check
        )

    def run(self, args: Sequence[str], *, cwd: Path | None = None, check: bool = True,
            extra_env: dict[str, str] | None = None) -> bool:  # fmt: skip
        self.lines.clear()
        with subprocess.Popen(  # noqa: S603 - argv list to uv, never a shell
            [self.executable, *args], cwd=cwd, env=self.env(extra_env), text=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        ) as process:  # fmt: skip
            assert process.stdout is not None  # noqa: S101 - stdout=PIPE above
            for line in process.stdout:
                self.lines.append(line.rstrip())
                self.on_log("  " + line.rstrip())
        if process.returncode != 0 and check:
            raise BuildFailed(f"uv {' '.join(args[:2])} failed:\n{self.tail()}")
        return process.returncode == 0

    def capture(self, args: Sequence[str], *, stdin: str) -> str | None:
        done = subprocess.run(  # noqa: S603 - argv list to uv, never a shell
            [self.executable, *args], input=stdin, capture_output=True, text=True,
            env=self.env(), check=False,
        )  # fmt: skip
        return done.stdout if done.returncode == 0 else None

    def tail(self) -> str:
        return "\n".join(self.lines)
