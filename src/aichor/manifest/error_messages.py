"""pydantic errors → `ManifestIssue`s: the user's field path, a line, and a short plain message."""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterator
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from aichor.manifest.base import RULES_ERROR_TYPE, Location, case_insensitive_keys_schema
from aichor.manifest.issues import ManifestIssue
from aichor.manifest.schema import OPERATORS, Manifest
from aichor.manifest.yaml_source import locate

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_OPERATOR_LIST = ", ".join(OPERATORS)

# pydantic error type → message; `{…}` are filled from the error's context.
_MESSAGES = {
    "missing": "required",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a mapping",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "greater_than": "must be > {gt}",
    "greater_than_equal": "must be ≥ {ge}",
    "less_than": "must be < {lt}",
    "less_than_equal": "must be ≤ {le}",
    "too_short": "must have at least {min_length} item(s)",
    "string_too_short": "must not be empty",
    "string_pattern_mismatch": "must match {pattern}",
    "literal_error": "must be one of {expected}",
    "enum": "must be one of {expected}",
    "union_tag_invalid": "unknown operator {tag!r}; expected one of " + _OPERATOR_LIST,
    "union_tag_not_found": "required; one of " + _OPERATOR_LIST,
    "recursion_loop": "refers to itself",
}


def describe_errors(exc: ValidationError, root: yaml.Node) -> list[ManifestIssue]:
    """Every error of `exc` as an issue located in the YAML tree, in file order, no repeats."""
    issues: dict[tuple[str, str], ManifestIssue] = {}
    for error in exc.errors(include_url=False):
        for raw, message in _expand(error):
            spelled, line = locate(root, _clean(raw, error["type"]))
            path = render_path(spelled)
            issues.setdefault((path, message), ManifestIssue(path=path, line=line, message=message))
    return sorted(issues.values(), key=lambda issue: (issue.line or 0, issue.path))


def render_path(parts: list[str | int]) -> str:
    """`spec.types.Workers[0].count`; keys that are not plain names are quoted: `env["1X"]`."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(part):
            text += f".{part}" if text else part
        else:
            text += f"[{part!r}]".replace("'", '"')
    return text


def _expand(error: ErrorDetails) -> Iterator[tuple[Location, str]]:
    """One `(raw location, message)` per problem; rule errors carry several."""
    loc = tuple(error["loc"])
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    if error["type"] == RULES_ERROR_TYPE:
        for sub_path, message in ctx["problems"]:
            yield (*loc, *sub_path), message
    elif error["type"] == "extra_forbidden":
        yield loc, _unknown_field(loc)
    elif error["type"] in ("value_error", "assertion_error"):
        yield loc, str(ctx.get("error", error["msg"]))
    elif error["type"] in _MESSAGES:
        yield loc, _MESSAGES[error["type"]].format(**{k: _number(v) for k, v in ctx.items()})
    else:
        yield loc, error["msg"][:1].lower() + error["msg"][1:]


def _number(value: Any) -> Any:
    """`0` rather than `0.0` in bounds such as "must be > 0"."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _clean(raw: Location, error_type: str) -> Location:
    """Drop pydantic's discriminator tag and `[key]` marker; point operator errors at it."""
    parts = list(raw)
    if len(parts) > 1 and parts[0] == "spec" and parts[1] in OPERATORS:
        del parts[1]
    if error_type in ("union_tag_invalid", "union_tag_not_found"):
        parts.append("operator")
    if parts and parts[-1] == "[key]":
        parts.pop()  # an error about a mapping key: the key itself is the field
    return tuple(parts)


def _unknown_field(loc: Location) -> str:
    """`unknown field; did you mean 'command'?`, from the keys allowed where the field sits."""
    name = str(loc[-1])
    model = _model_at(loc[:-1])
    allowed = [field.alias or key for key, field in model.model_fields.items()] if model else []
    same = [key for key in allowed if key.lower() == name.lower()]
    if (
        same
        and model
        and model.model_config.get("json_schema_extra") is case_insensitive_keys_schema
    ):
        return f"duplicates {same[0]!r} (replica type names are case-insensitive)"
    close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
    if close:
        return f"unknown field; did you mean {close[0]!r}?"
    if allowed:
        return f"unknown field; expected one of {', '.join(sorted(allowed))}"
    return "unknown field"


def _model_at(loc: Location) -> type[BaseModel] | None:
    """The model found by following the raw pydantic location down from Manifest."""
    annotation: Any = Manifest
    for part in loc:
        annotation = _step(_unwrap(annotation, part), part)
        if annotation is None:
            return None
    model = _unwrap(annotation, None)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _unwrap(annotation: Any, tag: str | int | None) -> Any:
    """Strip Annotated and Optional; pick the union member whose `operator` is `tag`."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        tagged = [m for m in members if _operator_of(m) == tag]
        annotation = tagged[0] if tagged else members[0]
    return annotation


def _operator_of(member: Any) -> str | None:
    if isinstance(member, type) and issubclass(member, BaseModel):
        field = member.model_fields.get("operator")
        if field is not None and typing.get_origin(field.annotation) is typing.Literal:
            return str(typing.get_args(field.annotation)[0])
    return None


def _step(annotation: Any, part: str | int) -> Any:
    """The annotation one location part further down, or None when it cannot be followed."""
    if _operator_of(annotation) == part:
        return annotation  # the discriminator tag is not a field
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for name, field in annotation.model_fields.items():
            if part in (field.alias, name):
                return field.annotation
        return None
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (list, tuple) and args:
        return args[0]
    if origin is dict and len(args) == 2:
        return args[1]
    return None
