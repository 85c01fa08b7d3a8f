"""Request dependencies: the settings, a database session, and the current Actor.

The session is a unit of work: committed when the route returns (before the response is sent),
rolled back when it raises. The Actor comes from `Authorization: Bearer <token>` (CLI, scripts)
or from the `aichor_session` cookie (browser); with the cookie, every non-GET request must echo
the `aichor_csrf` cookie in the `X-CSRF-Token` header.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request

from aichor.db.session import Session, session
from aichor.errors import Unauthorized
from aichor.services import tokens
from aichor.services.access import Actor
from aichor.settings import Settings

SESSION_COOKIE = "aichor_session"
CSRF_COOKIE = "aichor_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    with session(request.app.state.db_engine) as db:
        yield db


AppSettings = Annotated[Settings, Depends(get_settings)]
DbSession = Annotated[Session, Depends(get_session, scope="function")]


def current_actor(request: Request, db: DbSession, settings: AppSettings) -> Actor:
    """The authenticated caller; Unauthorized (401) without valid credentials."""
    header = request.headers.get("authorization", "")
    scheme, _, credential = header.partition(" ")
    if scheme.lower() == "bearer" and credential.strip():
        return tokens.authenticate(db, token=credential.strip(), kind=tokens.API)
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise Unauthorized("not logged in: send a bearer token or log in")
    actor = tokens.authenticate(db, token=cookie, kind=tokens.SESSION)
    if request.method not in SAFE_METHODS:
        tokens.check_csrf(settings.secret(), cookie, request.headers.get(CSRF_HEADER))
    return actor


CurrentActor = Annotated[Actor, Depends(current_actor)]
