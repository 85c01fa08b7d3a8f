"""Request dependencies: the settings, a database session, and the current Actor.

The session is a unit of work: committed when the route returns (before the response is sent),
rolled back when it raises. Each sync dependency and sync route is one hop to the thread pool
(and a wait for the GIL under load); the hot routes (submit, list) therefore take the session
and the Actor through `UnitOfWork`, which does the same work in one or two hops.

The Actor comes from `Authorization: Bearer <token>` (CLI, scripts)
or from the `aichor_session` cookie (browser); with the cookie, every non-GET request must echo
the `aichor_csrf` cookie in the `X-CSRF-Token` header.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Annotated, TypeVar

from fastapi import Depends, Request, Response
from fastapi.concurrency import run_in_threadpool

from aichor.db.session import Session, session
from aichor.errors import Unauthorized
from aichor.services import tokens
from aichor.services.access import Actor
from aichor.settings import Settings

SESSION_COOKIE = "aichor_session"
CSRF_COOKIE = "aichor_csrf"
CSRF_HEADER = "X-CSRF-Token"
ANGULAR_CSRF_HEADER = "X-XSRF-TOKEN"
"""Where Angular apps (TensorBoard behind the proxy) echo the `XSRF-TOKEN` cookie."""
ANGULAR_CSRF_COOKIE = "XSRF-TOKEN"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
T = TypeVar("T")


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
        presented = request.headers.get(CSRF_HEADER) or request.headers.get(ANGULAR_CSRF_HEADER)
        tokens.check_csrf(settings.secret(), cookie, presented)
    return actor


CurrentActor = Annotated[Actor, Depends(current_actor)]


def set_session_cookies(
    response: Response, *, session_token: str, csrf_token: str, settings: Settings
) -> None:
    """The browser session (http-only) and its CSRF token (readable by the page's script)."""
    secure = settings.public_url.startswith("https://")
    max_age = settings.session_hours * 3600
    response.set_cookie(
        SESSION_COOKIE, session_token, max_age=max_age, httponly=True, secure=secure, samesite="lax"
    )
    response.set_cookie(CSRF_COOKIE, csrf_token, max_age=max_age, secure=secure, samesite="lax")


def clear_session_cookies(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)


class UnitOfWork:
    """`DbSession` and `CurrentActor` for an async route, in as few thread-pool hops as it can.

    `await work.run(call)` opens the session, authenticates and calls `call(db, actor)`, then
    commits, in one hop. A route that must read the body after authenticating (and before the
    service call) does `await work.begin()`, reads, then `await work.finish(call)`; on an error
    in between, `await work.fail(error)` rolls back.
    """

    def __init__(self, request: Request) -> None:
        self.request = request
        self.settings = get_settings(request)
        self._stack = ExitStack()
        self._db: Session | None = None
        self._actor: Actor | None = None

    async def run(self, call: Callable[[Session, Actor], T]) -> T:
        return await run_in_threadpool(self._run, call)

    async def begin(self) -> None:
        await run_in_threadpool(self._begin)

    async def finish(self, call: Callable[[Session, Actor], T]) -> T:
        return await run_in_threadpool(self._finish, call)

    async def fail(self, error: BaseException) -> None:
        await run_in_threadpool(self._stack.__exit__, type(error), error, error.__traceback__)

    def _run(self, call: Callable[[Session, Actor], T]) -> T:
        self._begin()
        return self._finish(call)

    def _begin(self) -> None:
        with ExitStack() as stack:
            db = stack.enter_context(session(self.request.app.state.db_engine))
            self._actor = current_actor(self.request, db, self.settings)
            self._db = db
            self._stack = stack.pop_all()

    def _finish(self, call: Callable[[Session, Actor], T]) -> T:
        assert self._db is not None and self._actor is not None  # noqa: S101 (begin ran)
        with self._stack:  # commits when `call` returns, rolls back when it raises
            return call(self._db, self._actor)
