"""Sign-in, sign-out, invitation acceptance (password set-up) and the profile with API tokens.

The browser session is the API's (`api.deps` cookies, `services.auth.login_for_session`).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.responses import Response

from aichor.api.deps import AppSettings, DbSession, clear_session_cookies, set_session_cookies
from aichor.errors import AichorError
from aichor.schemas.accounts import LoginRequest
from aichor.services import auth, dashboard, invitations, tokens
from aichor.web.deps import CheckedPage, Page
from aichor.web.templating import render

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only a path on this site (never `//host` or a full URL) after signing in."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/experiments"


@router.get("/login")
def login_form(request: Request, next: str = "/experiments", email: str = "") -> Response:
    joined = request.query_params.get("joined") == "1"
    return render(None, "login.html", request=request, next=next, email=email, joined=joined)


@router.post("/login")
def login(
    request: Request,
    db: DbSession,
    settings: AppSettings,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/experiments",
) -> Response:
    try:
        body = LoginRequest(email=email, password=password)
        started = auth.login_for_session(db, request=body, settings=settings)
    except (AichorError, ValidationError) as error:
        message = (
            error.message if isinstance(error, AichorError) else "enter an e-mail and password"
        )
        return render(
            None, "login.html", 401, request=request, next=next, email=email, error=message
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_session_cookies(
        response,
        session_token=started.session_token,
        csrf_token=started.view.csrf_token,
        settings=settings,
    )
    return response


@router.post("/logout")
def logout(page: CheckedPage) -> Response:
    tokens.logout(page.db, page.actor)
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookies(response)
    return response


@router.get("/invitations/accept")
def accept_form(request: Request, token: str = "") -> Response:
    return render(None, "accept.html", request=request, token=token)


@router.post("/invitations/accept")
def accept(
    request: Request,
    db: DbSession,
    token: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    confirm: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
) -> Response:
    try:
        if password != confirm:
            raise AichorError("the two passwords differ")
        accepted = invitations.accept_invitation(db, token=token, password=password, name=name)
    except AichorError as error:
        return render(
            None, "accept.html", 400, request=request, token=token, name=name, error=error.message
        )
    query = urlencode({"joined": 1, "email": accepted.user.email})
    return RedirectResponse(f"/login?{query}", status_code=303)


@router.get("/profile")
def profile(page: Page) -> Response:
    return render(page, "profile.html", profile=dashboard.profile(page.db, page.actor))


@router.post("/profile/tokens")
def create_token(page: CheckedPage, name: Annotated[str, Form()] = "") -> Response:
    created = tokens.create_token(page.db, page.actor, name=name.strip() or "token")
    return render(
        page, "profile.html", profile=dashboard.profile(page.db, page.actor), created=created
    )


@router.post("/profile/tokens/{token_id}/revoke")
def revoke_token(token_id: str, page: CheckedPage) -> Response:
    tokens.revoke_token(page.db, page.actor, token_id=token_id)
    return RedirectResponse("/profile", status_code=303)
