"""Errors on page routes as HTML: sign-in redirect, 403/404 pages, a clear message otherwise.

Requests under /api keep the API's JSON answers (`api.error_handlers`); everything else is a
page and gets a page.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import cast
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from aichor.api.error_handlers import status_for
from aichor.errors import AichorError, Unauthorized
from aichor.web.deps import LoginRequired
from aichor.web.templating import render

Handler = Callable[[Request, Exception], Awaitable[Response]]
_TITLES = {403: "Not allowed", 404: "Not found", 409: "Not possible now"}


def install(app: FastAPI) -> None:
    """Wrap the API's handlers: pages get HTML, /api paths what they got before."""
    app.add_exception_handler(LoginRequired, _login_required)  # type: ignore[arg-type]
    app.add_exception_handler(ValidationError, _invalid_form)  # type: ignore[arg-type]
    for kind in (AichorError, RequestValidationError, HTTPException):
        api_handler = cast(Handler, app.exception_handlers[kind])
        app.add_exception_handler(kind, _page_or_api(api_handler))


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def _login_required(request: Request, _error: LoginRequired) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.headers.get("hx-request"):
        return Response(status_code=401, headers={"HX-Redirect": "/login"})
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


async def _invalid_form(request: Request, error: ValidationError) -> Response:
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"])
    return _page(request, 400, f"{field}: {first['msg']}")


def _page_or_api(api_handler: Handler) -> Handler:
    async def handle(request: Request, error: Exception) -> Response:
        if _is_api(request):
            return await api_handler(request, error)
        if isinstance(error, Unauthorized):
            return await _login_required(request, LoginRequired())
        if isinstance(error, AichorError):
            return _page(request, status_for(error), error.message)
        if isinstance(error, HTTPException):
            return _page(request, error.status_code, str(error.detail))
        return _page(request, 400, "this request is not valid: check the form's fields")

    return handle


def _page(request: Request, status: int, message: str) -> Response:
    if status == 404:
        message = message if message != "Not Found" else "there is no page at this address"
    title = _TITLES.get(status, "Something is wrong")
    return render(
        None, "error.html", status, request=request, title=title, message=message, code=status
    )
