"""Dockerfile text → stages of instructions, with build arguments substituted.

Called by `plan.py`. Pure: no file access beyond the text it is handed. Follows the Dockerfile
reference closely enough for researchers' files: parser directives (`# syntax=`, `# escape=`),
comments, line continuations, JSON (exec) and shell forms, heredocs (`<<EOF`), `FROM … AS name`
stages and ARG scoping (global ARGs before the first FROM are visible in FROM lines only, and
inside a stage after a bare `ARG NAME`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from aichor.errors import InvalidInput

_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z]+)\s*=\s*(.*?)\s*$")
_HEREDOC = re.compile(r"<<(-?)([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")
_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:[-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


@dataclass(frozen=True)
class Instruction:
    """One instruction as written: keyword upper-cased, flags (`--from=x`) split off."""

    keyword: str
    args: str
    """The rest of the line after the flags, continuations joined, variables not yet expanded."""
    line: int
    flags: Mapping[str, str] = field(default_factory=dict)
    heredocs: tuple[tuple[str, str], ...] = ()
    """(delimiter, body) pairs for `<<EOF` heredocs, in order."""

    def exec_form(self) -> list[str] | None:
        """The JSON array form (`["a", "b"]`), or None when the shell form was used."""
        text = self.args.strip()
        if not text.startswith("["):
            return None
        try:
            value = json.loads(text)
        except ValueError:
            return None
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return value
        return None


@dataclass
class Stage:
    """One `FROM` and the instructions under it."""

    index: int
    base: str
    name: str | None
    line: int
    platform: str | None = None
    instructions: list[Instruction] = field(default_factory=list)


@dataclass
class Dockerfile:
    """A parsed Dockerfile: its directives, global ARGs and stages."""

    directives: dict[str, str]
    global_args: list[Instruction]
    stages: list[Stage]


def parse(text: str, *, build_args: Mapping[str, str] | None = None) -> Dockerfile:
    """Parse a Dockerfile; FROM lines are expanded with the global ARGs and `build_args`."""
    directives, body = _split_directives(text.splitlines())
    escape = directives.get("escape", "\\")
    instructions = list(_instructions(body, escape))
    global_args: list[Instruction] = []
    stages: list[Stage] = []
    scope = dict(build_args or {})
    for ins in instructions:
        if ins.keyword == "FROM":
            stages.append(_stage(ins, len(stages), global_values(global_args, scope)))
        elif not stages:
            if ins.keyword != "ARG":
                raise InvalidInput(
                    f"Dockerfile line {ins.line}: {ins.keyword} before the first FROM",
                    field="builder.dockerfile",
                )
            global_args.append(ins)
        else:
            stages[-1].instructions.append(ins)
    if not stages:
        raise InvalidInput("Dockerfile has no FROM instruction", field="builder.dockerfile")
    return Dockerfile(directives=directives, global_args=global_args, stages=stages)


def substitute(text: str, values: Mapping[str, str]) -> str:
    """Expand `$VAR`, `${VAR}`, `${VAR:-default}` and `${VAR:+alt}`; unknown names become ''."""

    def expand(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(4)
        value = values.get(name, "")
        if match.group(2) == ":-":
            return value or substitute(match.group(3), values)
        if match.group(2) == ":+":
            return substitute(match.group(3), values) if value else ""
        return value

    return _VAR.sub(expand, text)


def arg_definitions(ins: Instruction) -> list[tuple[str, str | None]]:
    """`ARG A=1 B` → [("A", "1"), ("B", None)] (defaults not yet expanded)."""
    result: list[tuple[str, str | None]] = []
    for word in split_words(ins.args):
        name, eq, default = word.partition("=")
        result.append((name, default if eq else None))
    return result


def env_pairs(ins: Instruction) -> list[tuple[str, str]]:
    """ENV in both syntaxes: `ENV A=1 B="two words"` and the legacy `ENV A one value`."""
    words = split_words(ins.args)
    if words and "=" not in words[0]:
        name, _, value = ins.args.strip().partition(" ")
        return [(name, _unquote(value.strip()))]
    return [(name, value) for name, _, value in (word.partition("=") for word in words)]


def split_words(text: str) -> list[str]:
    """Split on whitespace, honouring quotes and backslash escapes, removing the quotes."""
    words: list[str] = []
    current: list[str] = []
    quote = ""
    in_word = False
    chars = iter(text)
    for char in chars:
        if char == "\\" and quote != "'":
            current.append(next(chars, ""))
            in_word = True
        elif quote:
            if char == quote:
                quote = ""
            else:
                current.append(char)
        elif char in "\"'":
            quote, in_word = char, True
        elif char.isspace():
            if in_word:
                words.append("".join(current))
                current, in_word = [], False
        else:
            current.append(char)
            in_word = True
    if in_word:
        words.append("".join(current))
    return words


def _unquote(value: str) -> str:
    words = split_words(value)
    return " ".join(words) if words else ""


def _split_directives(lines: list[str]) -> tuple[dict[str, str], list[tuple[int, str]]]:
    """Parser directives are only recognised in the leading comment block."""
    directives: dict[str, str] = {}
    start = 0
    for start, line in enumerate(lines):  # noqa: B007 - start is used after the loop
        match = _DIRECTIVE.match(line)
        if not match or match.group(1).lower() not in {"syntax", "escape", "check"}:
            break
        directives[match.group(1).lower()] = match.group(2)
    else:
        start = len(lines)
    return directives, list(enumerate(lines, start=1))[start:]


def _instructions(lines: list[tuple[int, str]], escape: str) -> list[Instruction]:
    result: list[Instruction] = []
    index = 0
    while index < len(lines):
        number, text = lines[index]
        index += 1
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        parts = [text]
        while parts[-1].rstrip().endswith(escape) and index < len(lines):
            parts[-1] = parts[-1].rstrip()[: -len(escape)]
            following = lines[index][1]
            index += 1
            while following.lstrip().startswith("#") and index < len(lines):
                following = lines[index][1]  # comments inside a continuation are dropped
                index += 1
            parts.append(following)
        joined = " ".join(part.strip() for part in parts)
        keyword, _, rest = joined.partition(" ")
        flags, args = _split_flags(rest.strip())
        heredocs, index = _read_heredocs(args, lines, index)
        result.append(Instruction(keyword.upper(), args, number, flags, heredocs))
    return result


def _split_flags(text: str) -> tuple[dict[str, str], str]:
    flags: dict[str, str] = {}
    while text.startswith("--"):
        word, _, rest = text.partition(" ")
        name, _, value = word[2:].partition("=")
        flags[name.lower()] = value
        text = rest.lstrip()
    return flags, text


def _read_heredocs(
    args: str, lines: list[tuple[int, str]], index: int
) -> tuple[tuple[tuple[str, str], ...], int]:
    """Consume the bodies of `<<EOF` heredocs that follow the instruction line."""
    docs: list[tuple[str, str]] = []
    if args.startswith("["):
        return (), index
    for match in _HEREDOC.finditer(args):
        strip_tabs, delimiter = match.group(1) == "-", match.group(3)
        body: list[str] = []
        while index < len(lines):
            text = lines[index][1]
            index += 1
            if (text.lstrip("\t") if strip_tabs else text) == delimiter:
                break
            body.append(text.lstrip("\t") if strip_tabs else text)
        docs.append((delimiter, "\n".join(body) + "\n"))
    return tuple(docs), index


def global_values(global_args: list[Instruction], build_args: Mapping[str, str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for ins in global_args:
        for name, default in arg_definitions(ins):
            if name in build_args:
                values[name] = build_args[name]
            elif default is not None:
                values[name] = substitute(default, values)
    return values


def _stage(ins: Instruction, index: int, values: Mapping[str, str]) -> Stage:
    words = split_words(substitute(ins.args, values))
    if not words:
        raise InvalidInput(f"Dockerfile line {ins.line}: FROM needs an image", field="builder")
    name = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
    return Stage(
        index=index,
        base=words[0],
        name=name.lower() if name else None,
        line=ins.line,
        platform=ins.flags.get("platform"),
    )
