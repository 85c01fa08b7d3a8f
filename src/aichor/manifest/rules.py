"""Field-level rules of the manifest reference, as annotated types the schema reuses.

Each validator raises `ValueError` with a short message; the loader prefixes the field path.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, WithJsonSchema

from aichor.manifest.protected import is_protected

_TIMEOUT = re.compile(
    r"\s*(?:(?P<w>\d+)w)?\s*(?:(?P<d>\d+)d)?\s*(?:(?P<h>\d+)h)?\s*(?:(?P<m>\d+)m)?\s*(?:(?P<s>\d+)s)?\s*"
)
_UNIT_SECONDS = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "s": 1}
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_LABEL_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
JOBSET_TYPE_PATTERN = r"^[a-z][a-z0-9-]*$"


def parse_timeout(text: str) -> int:
    """Seconds in a duration like `1w 2d 5h 6m 20s` (units once each, in that order)."""
    match = _TIMEOUT.fullmatch(text)
    if match is None or not any(match.groupdict().values()):
        raise ValueError(
            f"{text!r} is not a duration; write e.g. '1w 2d 5h 6m 20s' "
            "(units w, d, h, m, s, each at most once, in that order)"
        )
    seconds = sum(int(n) * _UNIT_SECONDS[unit] for unit, n in match.groupdict().items() if n)
    if seconds <= 0:
        raise ValueError(f"{text!r} must be longer than 0 seconds")
    return seconds


def _check_timeout(text: str) -> str:
    parse_timeout(text)
    return text


def _check_env_name(name: str) -> str:
    if not _ENV_NAME.fullmatch(name):
        raise ValueError(
            f"{name!r} is not a valid variable name (letters, digits, _; no digit first)"
        )
    if is_protected(name):
        raise ValueError(f"{name} is set by the platform and cannot be overridden in spec.env")
    return name


def _scalar_to_str(value: Any) -> Any:
    """YAML users write `BATCH_SIZE: 32` or `DEBUG: true`; the container sees the text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def _check_dns_label(name: str) -> str:
    if len(name) > 63 or not _DNS_LABEL.fullmatch(name):
        raise ValueError(
            f"{name!r} is not a valid name (lowercase letters, digits and '-', "
            "starting and ending with a letter or digit, at most 63 characters)"
        )
    return name


def _check_label_key(key: str) -> str:
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.fullmatch(prefix)):
        raise ValueError(f"{key!r}: label prefix {prefix!r} is not a DNS subdomain")
    if len(name) > 63 or not _LABEL_NAME.fullmatch(name):
        raise ValueError(
            f"{key!r} is not a valid label key (at most 63 letters, digits, '-', '_', '.', "
            "starting and ending with a letter or digit, optionally after a 'prefix/')"
        )
    return key


def _check_label_value(value: str) -> str:
    if value and (len(value) > 63 or not _LABEL_NAME.fullmatch(value)):
        raise ValueError(
            f"{value!r} is not a valid label value (at most 63 letters, digits, '-', '_', '.', "
            "starting and ending with a letter or digit)"
        )
    return value


def _check_absolute(path: str) -> str:
    if not path.startswith("/"):
        raise ValueError(f"{path!r} must be an absolute path")
    return path


def _check_not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be empty")
    return text


_SCALAR_SCHEMA = WithJsonSchema({"type": ["string", "number", "boolean"]})

Timeout = Annotated[str, AfterValidator(_check_timeout)]
EnvName = Annotated[str, AfterValidator(_check_env_name)]
ScalarText = Annotated[str, BeforeValidator(_scalar_to_str), _SCALAR_SCHEMA]
DnsLabel = Annotated[str, AfterValidator(_check_dns_label)]
LabelKey = Annotated[str, AfterValidator(_check_label_key)]
LabelValue = Annotated[
    str, BeforeValidator(_scalar_to_str), AfterValidator(_check_label_value), _SCALAR_SCHEMA
]
AbsolutePath = Annotated[str, AfterValidator(_check_absolute)]
NonBlank = Annotated[str, AfterValidator(_check_not_blank)]


def _check_scalar(value: Any) -> Any:
    """One clear error instead of one per member of the `str | bool | int | float` union."""
    if not isinstance(value, str | bool | int | float):
        raise ValueError("must be a string, number or boolean")
    return value


BuildArgValue = Annotated[str | bool | int | float, BeforeValidator(_check_scalar)]
