"""Page dependencies: the signed-in browser user (the API's session cookie) and CSRF on forms.

A page route takes `Page` (database session, Actor, settings, the CSRF token to embed in its
forms), or, when it is polled, calls `in_page` to get the same in one thread-pool hop. Without
a valid session the request ends in `LoginRequired`, which `web.errors` turns into a redirect
to /login. Form posts take `CheckedPage`, which also checks the form's `csrf_token` field (or
the `X-CSRF-Token` header htmx sends) against the session cookie.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, Form, Request
from fastapi.concurrency import run_in_threadpool

from aichor.api.deps import CSRF_HEADER, SESSION_COOKIE, AppSettings, DbSession, get_settings
from aichor.db.session import Session, session
from aichor.errors import Unauthorized
from aichor.services import tokens
from aichor.services.access import Actor
from aichor.settings import Settings

T = TypeVar("T")


class LoginRequired(Exception):
    """No valid browser session: the user is sent to the sign-in page."""


@dataclass(frozen=True)
class PageContext:
    request: Request
    db: Session
    actor: Actor
    settings: Settings
    csrf_token: str


def page_context(request: Request, db: DbSession, settings: AppSettings) -> PageContext:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise LoginRequired
    try:
        actor = tokens.authenticate(db, token=cookie, kind=tokens.SESSION)
    except Unauthorized:
        raise LoginRequired from None
    return PageContext(request, db, actor, settings, tokens.csrf_token(settings.secret(), cookie))


Page = Annotated[PageContext, Depends(page_context)]


async def in_page(request: Request, call: Callable[[PageContext], T]) -> T:
    """`call(page)` with the session and the signed-in user, in one thread-pool hop.

    What `Page` does, for the pages polled every two seconds: the dependency path costs a hop
    per dependency (see `api.deps.UnitOfWork`). The session commits when `call` returns."""
    return await run_in_threadpool(_in_page, request, call)


def _in_page(request: Request, call: Callable[[PageContext], T]) -> T:
    settings = get_settings(request)
    with session(request.app.state.db_engine) as db:
        return call(page_context(request, db, settings))


def checked_page(page: Page, csrf_token: Annotated[str, Form()] = "") -> PageContext:
    """The page context of a form post whose CSRF token matches the session."""
    presented = csrf_token or page.request.headers.get(CSRF_HEADER)
    cookie = page.request.cookies.get(SESSION_COOKIE, "")
    tokens.check_csrf(page.settings.secret(), cookie, presented)
    return page


CheckedPage = Annotated[PageContext, Depends(checked_page)]
