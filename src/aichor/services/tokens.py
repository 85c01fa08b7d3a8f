"""Bearer API tokens and browser sessions: issued once, stored as sha256, revocable.

A token is `aichor_<random>`; only `sha256(token)` and a short prefix are stored. Sessions are
the same rows with kind `session` and an expiry; their CSRF token is an HMAC of the session
token with the server's secret, so nothing more is stored for it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from aichor.db import tables
from aichor.errors import Forbidden, NotFound, Unauthorized
from aichor.schemas.accounts import TokenCreated, TokenView
from aichor.services import audit
from aichor.services.access import Actor

TOKEN_PREFIX = "aichor_"  # noqa: S105 (a prefix, not a secret)
API = "api"
SESSION = "session"
_TOUCH_EVERY = timedelta(minutes=1)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    session: Session,
    actor: Actor,
    *,
    name: str,
    kind: str = API,
    expires_at: datetime | None = None,
) -> tuple[tables.ApiToken, str]:
    """A new token row for the actor and the token itself (the only time it exists in clear)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = tables.ApiToken(
        organisation_id=actor.organisation_id,
        user_id=actor.user_id,
        name=name,
        kind=kind,
        token_hash=hash_token(token),
        prefix=token[: len(TOKEN_PREFIX) + 4],
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    return row, token


def create_token(session: Session, actor: Actor, *, name: str) -> TokenCreated:
    row, token = issue_token(session, actor, name=name)
    audit.record(session, actor, "token.create", target=row.id, detail={"name": name})
    return TokenCreated(id=row.id, name=row.name, prefix=row.prefix, token=token)


def list_tokens(session: Session, actor: Actor) -> list[TokenView]:
    """The actor's own live API tokens."""
    rows = session.scalars(
        select(tables.ApiToken)
        .where(
            tables.ApiToken.organisation_id == actor.organisation_id,
            tables.ApiToken.user_id == actor.user_id,
            tables.ApiToken.kind == API,
            tables.ApiToken.revoked_at.is_(None),
        )
        .order_by(tables.ApiToken.created_at)
    )
    return [
        TokenView(
            id=r.id,
            name=r.name,
            prefix=r.prefix,
            created_at=r.created_at,
            last_used_at=r.last_used_at,
            expires_at=r.expires_at,
        )
        for r in rows
    ]


def revoke_token(session: Session, actor: Actor, *, token_id: str) -> None:
    """Revoke one of the actor's own tokens or sessions; others' are NotFound."""
    row = session.scalars(
        select(tables.ApiToken).where(
            tables.ApiToken.id == token_id,
            tables.ApiToken.organisation_id == actor.organisation_id,
            tables.ApiToken.user_id == actor.user_id,
            tables.ApiToken.revoked_at.is_(None),
        )
    ).one_or_none()
    if row is None:
        raise NotFound(f"token {token_id} not found")
    row.revoked_at = tables.utcnow()
    audit.record(session, actor, f"{row.kind}.revoke", target=row.id)


def logout(session: Session, actor: Actor) -> None:
    """End the session or revoke the token that authenticated this request."""
    if actor.token_id is not None:
        revoke_token(session, actor, token_id=actor.token_id)


_BY_HASH = (
    select(tables.ApiToken, tables.User, tables.Organisation, tables.Membership.roles)
    .join(tables.User, tables.User.id == tables.ApiToken.user_id)
    .outerjoin(tables.Organisation, tables.Organisation.id == tables.ApiToken.organisation_id)
    .outerjoin(
        tables.Membership,
        (tables.Membership.user_id == tables.ApiToken.user_id)
        & (tables.Membership.organisation_id == tables.ApiToken.organisation_id),
    )
    .where(tables.ApiToken.token_hash == bindparam("digest"))
)
"""Built once: every authenticated request runs it, and building a statement costs as much
as running this one."""


def authenticate(session: Session, *, token: str, kind: str = API) -> Actor:
    """The Actor a live token (or session token) stands for; Unauthorized otherwise.

    One query per request: the token row (by its unique hash) with its user, organisation and
    membership joined in, since every authenticated request pays for it.
    """
    digest = hash_token(token)
    found = session.execute(_BY_HASH, {"digest": digest}).one_or_none()
    now = tables.utcnow()
    row = found[0] if found is not None else None
    if (
        found is None
        or row is None
        or not hmac.compare_digest(row.token_hash, digest)
        or row.kind != kind
        or row.revoked_at is not None
        or (row.expires_at is not None and row.expires_at <= now)
    ):
        raise Unauthorized("invalid, expired or revoked credentials; log in again")
    _row, user, organisation, roles = found
    if not user.is_active:
        raise Unauthorized("this account is disabled")
    if organisation is None or roles is None:
        raise Unauthorized("this account left the organisation")
    _touch(session, row, now)
    return Actor(user=user, organisation=organisation, roles=frozenset(roles), token_id=row.id)


def _touch(session: Session, row: tables.ApiToken, now: datetime) -> None:
    """Record use at most once a minute, so reads do not write on every request."""
    if row.last_used_at is None or now - row.last_used_at > _TOUCH_EVERY:
        session.execute(
            update(tables.ApiToken).where(tables.ApiToken.id == row.id).values(last_used_at=now)
        )


def start_session(
    session: Session, actor: Actor, *, secret: str, hours: int
) -> tuple[str, str, datetime]:
    """A browser session: (session token, CSRF token, expiry)."""
    expires_at = tables.utcnow() + timedelta(hours=hours)
    _row, token = issue_token(session, actor, name="browser", kind=SESSION, expires_at=expires_at)
    return token, csrf_token(secret, token), expires_at


def csrf_token(secret: str, session_token: str) -> str:
    return hmac.new(secret.encode(), session_token.encode(), hashlib.sha256).hexdigest()


def check_csrf(secret: str, session_token: str, presented: str | None) -> None:
    """Forbidden unless `presented` is this session's CSRF token (constant-time)."""
    if not presented or not hmac.compare_digest(csrf_token(secret, session_token), presented):
        raise Forbidden("missing or wrong X-CSRF-Token header")
