"""Replay a parsed Dockerfile without running it: files to lay out, packages to install, notes.

Called by `build_image`. Reads only directory listings (for COPY globs); never runs anything.
Stages: the target (or the last stage) and every stage it depends on through `FROM <stage>` or
`COPY --from=<stage>` are replayed in file order; the Python packages of all of them go into the
one environment, because `COPY --from=builder /app/.venv …` is how images carry them across.
"""

from __future__ import annotations

import copy
import glob
import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from aichor.engines.local.build import run_commands
from aichor.engines.local.build.dockerfile import (
    Dockerfile,
    Instruction,
    Stage,
    arg_definitions,
    env_pairs,
    global_values,
    split_words,
    substitute,
)
from aichor.errors import InvalidInput

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_NOTED = frozenset(
    {"CMD", "ENTRYPOINT", "USER", "EXPOSE", "LABEL", "VOLUME", "HEALTHCHECK", "STOPSIGNAL",
     "SHELL", "ONBUILD", "MAINTAINER"}
)  # fmt: skip


@dataclass(frozen=True)
class CopyOp:
    """Place `source` (a host file or directory's contents) at image path `dest`."""

    dest: str
    source: Path | None
    content: str | None = None
    """Heredoc COPY: the file's text instead of a source."""


@dataclass(frozen=True)
class PythonStep:
    """One install into the environment; host paths are resolved, files listed for the key."""

    kind: Literal["packages", "sync", "project"]
    args: tuple[str, ...]
    line: int
    cwd: Path | None = None
    project_dir: Path | None = None
    """Host directory of a project installed by `uv sync` / `pip install .`."""
    image_dir: str | None = None
    """The same project's directory inside the image (its source is imported from there)."""
    files: tuple[Path, ...] = ()


@dataclass
class _State:
    base: str
    env: dict[str, str]
    args: dict[str, str]
    workdir: str = "/"
    copies: list[CopyOp] = field(default_factory=list)
    steps: list[PythonStep] = field(default_factory=list)


@dataclass
class BuildPlan:
    bases: list[str]
    steps: list[PythonStep]
    copies: list[CopyOp]
    env: dict[str, str]
    workdir: str
    notes: list[str]


def make_plan(
    dockerfile: Dockerfile, *, context: Path, build_args: dict[str, str], target: str | None
) -> BuildPlan:
    """Replay the stages the target needs; `notes` are build-log lines (skips, assumptions)."""
    stages = _needed_stages(dockerfile, target)
    replay = _Replay(context, build_args, dockerfile)
    for stage in stages:
        replay.stage(stage)
    final = replay.states[stages[-1].index]
    steps: list[PythonStep] = []
    for stage in stages:
        steps += [step for step in replay.states[stage.index].steps if step not in steps]
    bases = list(dict.fromkeys(replay.states[stage.index].base for stage in stages))
    return BuildPlan(bases, steps, final.copies, final.env, final.workdir, replay.notes)


def _needed_stages(dockerfile: Dockerfile, target: str | None) -> list[Stage]:
    by_name = {stage.name: stage for stage in dockerfile.stages if stage.name}
    if target is not None and target.lower() not in by_name:
        raise InvalidInput(
            f"build target {target!r} is not a stage of the Dockerfile "
            f"(stages: {', '.join(by_name) or 'none named'})",
            field="builder.target",
        )
    chosen = by_name[target.lower()] if target else dockerfile.stages[-1]
    needed: set[int] = set()
    pending = [chosen]
    while pending:
        stage = pending.pop()
        if stage.index in needed:
            continue
        needed.add(stage.index)
        refs = [stage.base] + [
            ins.flags["from"] for ins in stage.instructions if "from" in ins.flags
        ]
        for ref in refs:
            found = by_name.get(ref.lower()) or _by_index(dockerfile, ref)
            if found is not None and found.index < stage.index:
                pending.append(found)
    return [stage for stage in dockerfile.stages if stage.index in needed]


def _by_index(dockerfile: Dockerfile, ref: str) -> Stage | None:
    return (
        dockerfile.stages[int(ref)] if ref.isdigit() and int(ref) < len(dockerfile.stages) else None
    )


class _Replay:
    """Holds per-stage state while instructions are replayed in order."""

    def __init__(self, context: Path, build_args: dict[str, str], dockerfile: Dockerfile) -> None:
        self.context = context
        self.build_args = build_args
        self.dockerfile = dockerfile
        self.states: dict[int, _State] = {}
        self.notes: list[str] = []

    def stage(self, stage: Stage) -> None:
        parent = self._stage_ref(stage.base)
        if parent is not None:
            state = copy.deepcopy(self.states[parent.index])
            state.args = {}
        else:
            state = _State(base=stage.base, env={"PATH": DEFAULT_PATH}, args={})
        self.states[stage.index] = state
        for ins in stage.instructions:
            self.instruction(state, ins)

    def _stage_ref(self, ref: str) -> Stage | None:
        for stage in self.dockerfile.stages:
            if stage.name == ref.lower():
                return stage
        return _by_index(self.dockerfile, ref)

    def note(self, ins: Instruction, text: str) -> None:
        self.notes.append(f"line {ins.line}: {ins.keyword} {text}")

    def instruction(self, state: _State, ins: Instruction) -> None:
        values = {**state.args, **state.env}
        if ins.keyword == "ARG":
            self.arg(state, ins, values)
        elif ins.keyword == "ENV":
            for name, value in env_pairs(ins):
                state.env[name] = substitute(value, {**state.args, **state.env})
        elif ins.keyword == "WORKDIR":
            path = substitute(split_words(ins.args)[0], values) if ins.args.strip() else "/"
            state.workdir = posixpath.normpath(posixpath.join(state.workdir, path))
        elif ins.keyword in {"COPY", "ADD"}:
            self.copy(state, ins, values)
        elif ins.keyword == "RUN":
            self.run(state, ins, values)
        elif ins.keyword in _NOTED:
            self.note(ins, f"{ins.args.strip()} (noted; the manifest's command is what runs)")
        else:
            self.note(ins, "is not supported by the local engine (skipped)")

    def arg(self, state: _State, ins: Instruction, values: dict[str, str]) -> None:
        """A bare `ARG NAME` in a stage brings in the build argument or the global default."""
        defaults = global_values(self.dockerfile.global_args, self.build_args)
        for name, default in arg_definitions(ins):
            if name in self.build_args:
                state.args[name] = self.build_args[name]
            elif default is not None:
                state.args[name] = substitute(default, values)
            elif name in defaults:
                state.args[name] = defaults[name]

    def copy(self, state: _State, ins: Instruction, values: dict[str, str]) -> None:
        if "chown" in ins.flags or "chmod" in ins.flags:
            self.note(ins, "--chown/--chmod ignored: files keep the running user's ownership")
        if ins.heredocs:
            dest = self._image_path(state, substitute(split_words(ins.args)[-1], values))
            for _, body in ins.heredocs:
                state.copies.append(CopyOp(dest, None, body))
            return
        words = ins.exec_form() or split_words(ins.args)
        words = [substitute(word, values) for word in words]
        if len(words) < 2:
            self.note(ins, "needs a source and a destination (skipped)")
            return
        sources, dest = words[:-1], self._image_path(state, words[-1])
        into = words[-1].endswith("/") or len(sources) > 1 or words[-1] in {".", "./"}
        origin = ins.flags.get("from")
        for source in sources:
            if origin is not None:
                self._copy_from_stage(state, ins, origin, source, dest, into)
            elif "://" in source or source.startswith("git@"):
                self.note(ins, f"{source}: remote sources are not fetched (skipped)")
            else:
                self._copy_local(state, ins, source, dest, into)

    def _copy_local(
        self, state: _State, ins: Instruction, source: str, dest: str, into: bool
    ) -> None:
        pattern = (self.context / source.lstrip("/")).as_posix()
        matches = sorted(glob.glob(pattern)) if glob.has_magic(source) else [pattern]
        if not matches or not Path(matches[0]).exists():
            raise InvalidInput(
                f"Dockerfile line {ins.line}: {ins.keyword} source {source!r} not found in the "
                "build context",
                field="builder.context",
            )
        for match in matches:
            path = Path(match)
            _check_inside(path, self.context, "builder.context")
            if ins.keyword == "ADD" and path.suffix in {".tar", ".gz", ".tgz", ".xz", ".bz2"}:
                self.note(ins, f"{source}: archives are copied, not extracted")
            many = into or len(matches) > 1 or _is_known_dir(state, dest)
            target = posixpath.join(dest, path.name) if path.is_file() and many else dest
            state.copies.append(CopyOp(target, path))

    def _copy_from_stage(
        self, state: _State, ins: Instruction, origin: str, source: str, dest: str, into: bool
    ) -> None:
        stage = self._stage_ref(origin)
        if stage is None or stage.index not in self.states:
            self.note(ins, f"--from={origin} {source}: files from other images are not "
                      "available locally (skipped)")  # fmt: skip
            return
        found = _lookup(self.states[stage.index], posixpath.normpath(source))
        if found is None:
            self.note(ins, f"--from={origin} {source}: made by a RUN in that stage, which is not "
                      "replayed; its packages are in the environment (skipped)")  # fmt: skip
            return
        name = posixpath.basename(source.rstrip("/"))
        target = posixpath.join(dest, name) if found.is_file() and into else dest
        state.copies.append(CopyOp(target, found))

    def _image_path(self, state: _State, path: str) -> str:
        return posixpath.normpath(posixpath.join(state.workdir, path))

    def run(self, state: _State, ins: Instruction, values: dict[str, str]) -> None:
        if ins.heredocs:
            texts = [body for _, body in ins.heredocs]
        else:
            argv = ins.exec_form()
            texts = [" ".join(argv) if argv else substitute(ins.args, values)]
        cwd = state.workdir
        for text in texts:
            for action in run_commands.actions(text):
                cwd = self._action(state, ins, action, cwd)

    def _action(
        self, state: _State, ins: Instruction, action: run_commands.Action, cwd: str
    ) -> str:
        if isinstance(action, run_commands.ChangeDir):
            return posixpath.normpath(posixpath.join(cwd, action.path))
        if isinstance(action, run_commands.Skip):
            self.note(ins, f"`{action.command}` skipped: {action.reason}")
        elif isinstance(action, run_commands.Sync):
            self._sync(state, ins, action, cwd)
        else:
            self._install(state, ins, action, cwd)
        return cwd

    def _sync(self, state: _State, ins: Instruction, action: run_commands.Sync, cwd: str) -> None:
        image_dir = posixpath.normpath(posixpath.join(cwd, action.project or "."))
        host = _lookup(state, image_dir)
        pyproject = _lookup(state, posixpath.join(image_dir, "pyproject.toml"))
        if pyproject is None:
            raise InvalidInput(
                f"Dockerfile line {ins.line}: uv sync in {image_dir}, but no pyproject.toml was "
                "copied there",
                field="builder.dockerfile",
            )
        project = host if host is not None and host.is_dir() else pyproject.parent
        files = tuple(p for p in (pyproject, pyproject.with_name("uv.lock")) if p.exists())
        state.steps.append(
            PythonStep("sync", action.flags, ins.line, None, project, image_dir, files)
        )

    def _install(
        self, state: _State, ins: Instruction, action: run_commands.Install, cwd: str
    ) -> None:
        args: list[str] = list(action.options)
        files: list[Path] = []
        for flag, paths in (("-r", action.requirements), ("-c", action.constraints)):
            for path in paths:
                host = self._required_file(state, ins, posixpath.join(cwd, path))
                args += [flag, str(host)]
                files.append(host)
        for path in action.projects:
            bare, _, extras = path.partition("[")
            host = self._required_file(state, ins, posixpath.join(cwd, bare))
            if host.is_file():
                args.append(str(host))
                files.append(host)
                continue
            pyproject = host / "pyproject.toml"
            image_dir = posixpath.normpath(posixpath.join(cwd, bare))
            extra_args = [arg for name in extras.rstrip("]").split(",") if name.strip()
                          for arg in ("--extra", name.strip())]  # fmt: skip
            state.steps.append(
                PythonStep("project", tuple(extra_args), ins.line, None, host, image_dir,
                           (pyproject,) if pyproject.exists() else ())
            )  # fmt: skip
        args += action.specs
        if action.specs or action.requirements:
            state.steps.append(PythonStep("packages", tuple(args), ins.line, None, None, None,
                                          tuple(files)))  # fmt: skip

    def _required_file(self, state: _State, ins: Instruction, image_path: str) -> Path:
        host = _lookup(state, posixpath.normpath(image_path))
        if host is None or not host.exists():
            raise InvalidInput(
                f"Dockerfile line {ins.line}: {image_path} is not in the image when this RUN "
                "executes (COPY it first)",
                field="builder.dockerfile",
            )
        return host


def _lookup(state: _State, image_path: str) -> Path | None:
    """The host path that a COPY put at `image_path`, latest copy first."""
    for op in reversed(state.copies):
        if op.source is None:
            continue
        if image_path == op.dest:
            return op.source
        if op.source.is_dir() and image_path.startswith(op.dest.rstrip("/") + "/"):
            candidate = op.source / image_path[len(op.dest.rstrip("/")) + 1 :]
            if candidate.exists():
                return candidate
    return None


def _is_known_dir(state: _State, dest: str) -> bool:
    if dest == state.workdir:
        return True
    return any(
        op.dest == dest and op.source is not None and op.source.is_dir() for op in state.copies
    )


def _check_inside(path: Path, root: Path, field_name: str) -> None:
    if not path.resolve().is_relative_to(root.resolve()):
        raise InvalidInput(f"{path} is outside the repository", field=field_name, value=str(path))
