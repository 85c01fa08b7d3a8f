"""What each git provider sends on a push: how it proves it knows the project's secret, and
where the commits are in its payload (docs/decisions/091-webhook-providers.md).

No database: `services.triggers` calls `authenticate` first (nothing is parsed before the
caller is proven), then `parse`. Header names are looked up lower-case.

- github: `X-Hub-Signature-256: sha256=<HMAC-SHA256(secret, body)>`; id `X-GitHub-Delivery`.
- gitlab: `X-Gitlab-Token: <secret>`; id `X-Gitlab-Event-UUID`.
- bitbucket (Cloud): `X-Hub-Signature: sha256=<HMAC-SHA256(secret, body)>`; id
  `X-Request-UUID`.
- azure (DevOps service hook): `Authorization: Basic <base64(any-user:secret)>`; id: payload
  `id`.
- git (`aichor vcs install-hook`): `X-Aichor-Signature-256: sha256=<HMAC…>`; id
  `X-Aichor-Delivery`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from aichor.errors import InvalidInput, Unauthorized

PROVIDERS = ("github", "gitlab", "bitbucket", "azure", "git")
_AUTHOR = re.compile(r"^(?P<name>.*?)\s*<(?P<email>[^>]*)>\s*$")


@dataclass(frozen=True)
class PushedCommit:
    sha: str
    message: str
    branch: str
    author_name: str = ""
    author_email: str = ""


@dataclass(frozen=True)
class Delivery:
    """One request from a provider: a push (commits listed) or another event (ignored)."""

    event: str
    delivery_id: str = ""
    commits: list[PushedCommit] = field(default_factory=list)

    @property
    def is_push(self) -> bool:
        return self.event == "push"


def check_provider(provider: str) -> None:
    if provider not in PROVIDERS:
        raise InvalidInput(
            f"unknown webhook provider {provider!r}; use one of {', '.join(PROVIDERS)}",
            field="provider",
        )


def authenticate(provider: str, headers: Mapping[str, str], body: bytes, secret: str) -> None:
    """Unauthorized unless the request proves knowledge of `secret` (constant-time compares)."""
    if provider == "gitlab":
        _same(headers.get("x-gitlab-token", ""), secret, "X-Gitlab-Token")
    elif provider == "azure":
        _same(_basic_password(headers.get("authorization", "")), secret, "Authorization")
    else:
        name = {"github": "x-hub-signature-256", "bitbucket": "x-hub-signature"}.get(
            provider, "x-aichor-signature-256"
        )
        _same(headers.get(name, "").strip().lower(), signature(secret, body), name)


def signature(secret: str, body: bytes) -> str:
    """The `sha256=<hex>` header value a sender computes over `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _same(given: str, expected: str, header: str) -> None:
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise Unauthorized(f"webhook rejected: {header} is missing or does not match the secret")


def _basic_password(value: str) -> str:
    scheme, _, encoded = value.partition(" ")
    if scheme.lower() != "basic":
        return ""
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return ""
    return decoded.partition(":")[2]


def parse(provider: str, headers: Mapping[str, str], body: bytes) -> Delivery:
    """The provider's payload as a `Delivery`; InvalidInput when it is not what it sends."""
    payload = _json(headers, body)
    try:
        return _PARSERS[provider](headers, payload)
    except (KeyError, TypeError, AttributeError) as error:
        raise InvalidInput(
            f"not a {provider} push payload (missing {error})", field="body"
        ) from None


def _json(headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
    """JSON, or GitHub's form encoding (`payload=<json>`)."""
    text = body.decode(errors="replace")
    if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        text = (parse_qs(text).get("payload") or ["{}"])[0]
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInput(f"the webhook body is not JSON: {error}", field="body") from None
    if not isinstance(payload, dict):
        raise InvalidInput("the webhook body is not a JSON object", field="body")
    return payload


def _github(headers: Mapping[str, str], payload: dict[str, Any]) -> Delivery:
    event = headers.get("x-github-event", "push")
    return _github_shaped(event, headers.get("x-github-delivery", ""), payload)


def _git(headers: Mapping[str, str], payload: dict[str, Any]) -> Delivery:
    return _github_shaped("push", headers.get("x-aichor-delivery", ""), payload)


def _gitlab(headers: Mapping[str, str], payload: dict[str, Any]) -> Delivery:
    event = headers.get("x-gitlab-event", "")
    event = "push" if event in {"Push Hook", "Tag Push Hook"} else event or "unknown"
    return _github_shaped(event, headers.get("x-gitlab-event-uuid", ""), payload)


def _github_shaped(event: str, delivery_id: str, payload: dict[str, Any]) -> Delivery:
    """GitHub, GitLab and our hook: `ref` and `commits[]` of `{id, message, author}`."""
    if event != "push":
        return Delivery(event, delivery_id)
    branch = short_ref(str(payload["ref"]))
    commits = [
        PushedCommit(
            sha=str(c["id"]),
            message=str(c.get("message", "")),
            branch=branch,
            author_name=str((c.get("author") or {}).get("name", "")),
            author_email=str((c.get("author") or {}).get("email", "")),
        )
        for c in payload.get("commits") or []
    ]
    return Delivery("push", delivery_id, commits)


def _bitbucket(headers: Mapping[str, str], payload: dict[str, Any]) -> Delivery:
    event = headers.get("x-event-key", "")
    delivery_id = headers.get("x-request-uuid", "")
    if event != "repo:push":
        return Delivery(event or "unknown", delivery_id)
    commits: list[PushedCommit] = []
    for change in payload["push"]["changes"]:
        branch = str((change.get("new") or {}).get("name", ""))
        for c in reversed(change.get("commits") or []):  # Bitbucket lists newest first
            name, email = _split_author(str((c.get("author") or {}).get("raw", "")))
            commits.append(PushedCommit(str(c["hash"]), str(c.get("message", "")), branch,
                                        name, email))  # fmt: skip
    return Delivery("push", delivery_id, commits)


def _azure(headers: Mapping[str, str], payload: dict[str, Any]) -> Delivery:
    event = str(payload.get("eventType", ""))
    delivery_id = str(payload.get("id", ""))
    if event != "git.push":
        return Delivery(event or "unknown", delivery_id)
    resource = payload["resource"]
    updates = resource.get("refUpdates") or [{}]
    branch = short_ref(str(updates[0].get("name", "")))
    commits = [
        PushedCommit(
            sha=str(c["commitId"]),
            message=str(c.get("comment", "")),
            branch=branch,
            author_name=str((c.get("author") or {}).get("name", "")),
            author_email=str((c.get("author") or {}).get("email", "")),
        )
        for c in reversed(resource.get("commits") or [])  # Azure lists newest first
    ]
    return Delivery("push", delivery_id, commits)


def short_ref(ref: str) -> str:
    """`refs/heads/main` → `main`, `refs/tags/v1` → `v1`."""
    for prefix in ("refs/heads/", "refs/tags/"):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref


def _split_author(raw: str) -> tuple[str, str]:
    found = _AUTHOR.match(raw)
    return (found.group("name"), found.group("email")) if found else (raw, "")


_PARSERS: dict[str, Callable[[Mapping[str, str], dict[str, Any]], Delivery]] = {
    "github": _github,
    "gitlab": _gitlab,
    "bitbucket": _bitbucket,
    "azure": _azure,
    "git": _git,
}
