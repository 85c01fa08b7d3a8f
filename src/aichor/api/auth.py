"""/api/auth/* and /api/me: password login for a token or a browser session, logout, whoami."""

from __future__ import annotations

from fastapi import APIRouter, Response

from aichor.api.deps import CSRF_COOKIE, SESSION_COOKIE, AppSettings, CurrentActor, DbSession
from aichor.schemas.accounts import LoginRequest, LoginView, MeView, SessionView
from aichor.services import accounts, auth, tokens

router = APIRouter(prefix="/api", tags=["auth"])


@router.post("/auth/login")
def login(body: LoginRequest, db: DbSession, settings: AppSettings) -> LoginView:
    return auth.login_for_token(db, request=body, settings=settings)


@router.post("/auth/session")
def start_session(
    body: LoginRequest, db: DbSession, settings: AppSettings, response: Response
) -> SessionView:
    started = auth.login_for_session(db, request=body, settings=settings)
    secure = settings.public_url.startswith("https://")
    max_age = settings.session_hours * 3600
    response.set_cookie(
        SESSION_COOKIE,
        started.session_token,
        max_age=max_age,
        httponly=True,
        secure=secure,
        samesite="lax",
    )
    response.set_cookie(
        CSRF_COOKIE, started.view.csrf_token, max_age=max_age, secure=secure, samesite="lax"
    )
    return started.view


@router.post("/auth/logout", status_code=204)
def logout(db: DbSession, actor: CurrentActor, response: Response) -> None:
    tokens.logout(db, actor)
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)


@router.get("/me")
def me(db: DbSession, actor: CurrentActor) -> MeView:
    return accounts.me(db, actor)
