"""Object keys and bucket names: what may be stored, and under which name.

Pure. Called by the bucket backends (`objects.py`) before touching any file or S3 object, by
the services before streaming an upload, and by `records.py` when it names a project's buckets.
A key is a relative, `/`-separated path inside one bucket: anything that could leave the bucket's
folder on the local backend (`..`, `.`, an absolute path, a backslash, NUL) is refused with an
error naming the key, on every backend, so a key valid here is valid everywhere.
"""

from __future__ import annotations

import re

from aichor.errors import InvalidInput

MAX_KEY_BYTES = 1024
"""S3's own limit on a key's length."""
KINDS = ("input", "output")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NOT_BUCKET = re.compile(r"[^a-z0-9-]+")


def check_key(key: str, *, field: str = "key") -> str:
    """`key` unchanged when it names an object inside a bucket; InvalidInput naming it if not."""
    if not key:
        raise InvalidInput("object key is empty", field=field, value=key)
    if key.endswith("/"):
        raise InvalidInput(f"object key {key!r} ends with '/': name a file", field=field)
    return _check_path(key, field)


def check_prefix(prefix: str, *, field: str = "prefix") -> str:
    """A listing prefix: empty (the whole bucket) or a key, optionally ending in `/`."""
    if not prefix:
        return prefix
    _check_path(prefix.removesuffix("/") or "/", field)
    return prefix


def _check_path(key: str, field: str) -> str:
    problem = _problem(key)
    if problem:
        raise InvalidInput(f"object key {key!r} {problem}", field=field, value=key)
    return key


def _problem(key: str) -> str | None:
    if "\x00" in key:
        return "contains a NUL character"
    if _CONTROL.search(key):
        return "contains a control character"
    if "\\" in key:
        return "contains a backslash: use '/' to separate folders"
    if key.startswith("/") or re.match(r"^[A-Za-z]:", key):
        return "is absolute: keys are relative to the bucket"
    if len(key.encode()) > MAX_KEY_BYTES:
        return f"is longer than {MAX_KEY_BYTES} bytes"
    parts = key.split("/")
    if any(part in ("..", ".") for part in parts):
        return "contains a '.' or '..' segment (path traversal)"
    if any(part == "" for part in parts):
        return "contains an empty segment ('//')"
    return None


def bucket_slug(project_name: str) -> str:
    """`project_name` as the start of an S3 bucket name: lower case, digits and hyphens."""
    slug = _NOT_BUCKET.sub("-", project_name.lower()).strip("-")
    return (slug or "project")[:40].rstrip("-")


def bucket_name(project_name: str, kind: str, *, prefix: str = "", unique: str = "") -> str:
    """`<prefix><slug>[-<unique>]-<kind>`: 3 to 63 characters, valid on every S3 store."""
    middle = f"{bucket_slug(project_name)}-{unique}" if unique else bucket_slug(project_name)
    name = f"{prefix}{middle}-{kind}".lower()
    return name[-63:].lstrip("-")
