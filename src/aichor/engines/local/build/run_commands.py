"""A RUN line's shell text → the Python-package actions it performs; everything else is skipped.

Called by `plan.py`. Recognises `pip install …` (any pip/pip3/python -m pip spelling),
`uv pip install …`, `uv sync`, `uv add` and `cd`; every other command (apt-get, apk, curl, …) is
returned as a `Skip` so the build log can say so: nothing is dropped silently. The text is only
tokenised with shlex, never executed.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass

_OS_TOOLS = frozenset({"apt-get", "apt", "apk", "yum", "dnf", "microdnf", "dpkg", "rpm", "zypper"})
_PIP = re.compile(r"^pip(\d+(\.\d+)?)?$")
_PYTHON = re.compile(r"^python(\d+(\.\d+)?)?$")
_SEPARATORS = frozenset({";", "&&", "||", "|", "&", "(", ")"})
# pip/uv install options that take a value and are passed on to uv.
_PASS_VALUE = frozenset(
    {"-i", "--index-url", "--extra-index-url", "--index", "--default-index", "-f", "--find-links",
     "--index-strategy", "--only-binary", "--no-binary", "--prerelease"}
)  # fmt: skip
_PASS_FLAG = frozenset({"--pre", "--no-deps", "--no-build-isolation"})
# Options that take a value and do not change what gets installed here.
_DROP_VALUE = frozenset(
    {"--cache-dir", "--progress-bar", "--root-user-action", "--python", "-p", "--trusted-host",
     "--target", "-t", "--prefix", "--timeout", "--retries", "--platform", "--python-version",
     "--compile-bytecode", "--link-mode"}
)  # fmt: skip


@dataclass(frozen=True)
class Install:
    """`pip install` / `uv pip install` / `uv add`: what to install, paths as written."""

    specs: tuple[str, ...] = ()
    requirements: tuple[str, ...] = ()
    constraints: tuple[str, ...] = ()
    projects: tuple[str, ...] = ()
    """Local paths: `.`, `./pkg`, `.[extra]`, `-e .`, wheel files."""
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sync:
    """`uv sync` with the flags that select what is installed."""

    flags: tuple[str, ...]
    project: str | None = None


@dataclass(frozen=True)
class ChangeDir:
    path: str


@dataclass(frozen=True)
class Skip:
    command: str
    reason: str


Action = Install | Sync | ChangeDir | Skip


def actions(shell_text: str) -> list[Action]:
    """Split a shell command line at `&&`, `;`, `|`… and classify each simple command."""
    try:
        lexer = shlex.shlex(shell_text, posix=True, punctuation_chars=";&|()")
        lexer.whitespace_split = True
        tokens = list(lexer)
    except ValueError:
        return [Skip(shell_text.strip(), "could not be tokenised")]
    result: list[Action] = []
    command: list[str] = []
    for token in [*tokens, ";"]:
        if token in _SEPARATORS:
            if command:
                result.append(classify(command))
            command = []
        else:
            command.append(token)
    return result


def classify(words: list[str]) -> Action:
    """One simple command (argv) → an Action."""
    text = shlex.join(words)
    while words and (
        re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]) or words[0] in {"sudo", "env"}
    ):
        words = words[1:]
    if not words:
        return Skip(text, "no command")
    exe = os.path.basename(words[0])
    if exe == "cd" and len(words) == 2:
        return ChangeDir(words[1])
    if _PIP.match(exe):
        return _pip(words[1:], text)
    if _PYTHON.match(exe) and words[1:3] == ["-m", "pip"]:
        return _pip(words[3:], text)
    if _PYTHON.match(exe) and words[1:3] == ["-m", "uv"]:
        return _uv(words[3:], text)
    if exe == "uv":
        return _uv(words[1:], text)
    if exe in _OS_TOOLS:
        return Skip(text, "OS-level package command; the machine's system packages are used")
    return Skip(text, "not a Python package command")


def _uv(args: list[str], text: str) -> Action:
    if args[:1] == ["pip"]:
        return _pip(args[1:], text)
    if args[:1] == ["sync"]:
        return _sync(args[1:])
    if args[:1] == ["add"]:
        install = _install_args(args[1:])
        return Install(install.specs, (), (), install.projects, install.options)
    if args[:1] == ["venv"]:
        return Skip(text, "the virtual environment is made by aichor")
    return Skip(text, "uv command without effect on installed packages here")


def _pip(args: list[str], text: str) -> Action:
    positional = [word for word in args if not word.startswith("-")]
    if positional[:1] != ["install"]:
        return Skip(text, "pip command other than install")
    install = _install_args(args[args.index("install") + 1 :])
    if [spec.lower() for spec in install.specs] == ["uv"] and not install.requirements:
        return Skip(text, "uv is provided by aichor")
    return install


def _sync(args: list[str]) -> Sync:
    flags: list[str] = []
    project: str | None = None
    words = iter(args)
    for word in words:
        name, eq, value = word.partition("=")
        if name in {"--project", "--directory"}:
            project = value if eq else next(words, None)
        elif name in {"--extra", "--group", "--only-group", "--no-group"}:
            flags += [name, value if eq else next(words, "")]
        elif name in {"--frozen", "--locked", "--no-dev", "--all-extras", "--all-groups",
                      "--only-dev", "--no-default-groups", "--no-install-project"}:  # fmt: skip
            flags.append(name)
    return Sync(tuple(flags), project)


def _install_args(args: list[str]) -> Install:
    specs: list[str] = []
    requirements: list[str] = []
    constraints: list[str] = []
    projects: list[str] = []
    options: list[str] = []
    words = iter(args)
    for word in words:
        name, eq, inline = word.partition("=") if word.startswith("--") else (word, "", "")
        if word.startswith(("-r", "-c", "-e")) and len(word) > 2 and not word.startswith("--"):
            name, eq, inline = word[:2], "=", word[2:]
        value = inline if eq else None
        if name in {"-r", "--requirement", "-c", "--constraint", "-e", "--editable"}:
            value = value if value is not None else next(words, "")
            target = {"-r": requirements, "--requirement": requirements, "-c": constraints,
                      "--constraint": constraints}.get(name, projects)  # fmt: skip
            target.append(value)
        elif name in _PASS_VALUE:
            options += [name, value if value is not None else next(words, "")]
        elif name in _PASS_FLAG:
            options.append(name)
        elif name in _DROP_VALUE:
            if value is None:
                next(words, None)
        elif word.startswith("-"):
            continue  # --no-cache-dir, -U, --user, --system, -q…: no effect on what is installed
        elif _is_local_path(word):
            projects.append(word)
        else:
            specs.append(word)
    return Install(tuple(specs), tuple(requirements), tuple(constraints), tuple(projects),
                   tuple(options))  # fmt: skip


def _is_local_path(word: str) -> bool:
    path = word.split("[", 1)[0]
    return path in {".", ".."} or path.startswith(("./", "../", "/")) or path.endswith(".whl")
