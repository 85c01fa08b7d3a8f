"""/api/auth/* and /api/me: password login for a token or a browser session, logout, whoami."""

from __future__ import annotations

from fastapi import APIRouter, Response

from aichor.api.deps import (
    AppSettings,
    CurrentActor,
    DbSession,
    clear_session_cookies,
    set_session_cookies,
)
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
    set_session_cookies(
        response,
        session_token=started.session_token,
        csrf_token=started.view.csrf_token,
        settings=settings,
    )
    return started.view


@router.post("/auth/logout", status_code=204)
def logout(db: DbSession, actor: CurrentActor, response: Response) -> None:
    tokens.logout(db, actor)
    clear_session_cookies(response)


@router.get("/me")
def me(db: DbSession, actor: CurrentActor) -> MeView:
    return accounts.me(db, actor)
