"""Logging in: a password login turned into an API token (CLI) or a browser session."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from aichor.schemas.accounts import LoginRequest, LoginView, OrganisationRef, SessionView
from aichor.services import accounts, tokens
from aichor.services.access import Actor
from aichor.settings import Settings


def _login(session: Session, request: LoginRequest, settings: Settings) -> Actor:
    return accounts.login(
        session,
        email=request.email,
        password=request.password,
        organisation=request.organisation,
        max_failures=settings.login_max_failures,
        window_seconds=settings.login_window_seconds,
    )


def login_for_token(session: Session, *, request: LoginRequest, settings: Settings) -> LoginView:
    """Check the password and issue a new API token named `cli`."""
    actor = _login(session, request, settings)
    _row, token = tokens.issue_token(session, actor, name="cli")
    return LoginView(
        token=token,
        user=accounts.user_view(actor.user, sorted(actor.roles)),
        organisation=OrganisationRef(id=actor.organisation_id, name=actor.organisation.name),
    )


@dataclass(frozen=True)
class BrowserSession:
    view: SessionView
    session_token: str
    """Goes into the http-only cookie; never in a response body."""


def login_for_session(
    session: Session, *, request: LoginRequest, settings: Settings
) -> BrowserSession:
    """Check the password and start a browser session with its CSRF token."""
    actor = _login(session, request, settings)
    token, csrf, expires_at = tokens.start_session(
        session, actor, secret=settings.secret(), hours=settings.session_hours
    )
    view = SessionView(
        user=accounts.user_view(actor.user, sorted(actor.roles)),
        organisation=OrganisationRef(id=actor.organisation_id, name=actor.organisation.name),
        csrf_token=csrf,
        expires_at=expires_at,
    )
    return BrowserSession(view=view, session_token=token)
