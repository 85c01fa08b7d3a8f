"""Errors as HTTP: every failure answers `{"detail": {"message": "<one line>", "field": ...}}`."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from aichor.errors import HTTP_STATUS, AichorError, InvalidInput, Unauthorized

STATUS = HTTP_STATUS


def status_for(error: AichorError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def body(message: str, field: str | None = None) -> dict[str, dict[str, str | None]]:
    return {"detail": {"message": message, "field": field}}


def install(app: FastAPI) -> None:
    app.add_exception_handler(AichorError, _aichor_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]


async def _aichor_error(_request: Request, error: AichorError) -> JSONResponse:
    field = error.field if isinstance(error, InvalidInput) else None
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(error, Unauthorized) else None
    return JSONResponse(body(error.message, field), status_code=status_for(error), headers=headers)


async def _validation_error(_request: Request, error: RequestValidationError) -> JSONResponse:
    first = error.errors()[0] if error.errors() else {"loc": (), "msg": "invalid request"}
    location = [str(part) for part in first.get("loc", ())]
    if location and location[0] in {"body", "query", "path", "header", "cookie"}:
        location = location[1:]
    field = ".".join(location) or None
    message = str(first.get("msg", "invalid request"))
    return JSONResponse(body(f"{field}: {message}" if field else message, field), status_code=422)


async def _http_error(_request: Request, error: HTTPException) -> JSONResponse:
    return JSONResponse(
        body(str(error.detail)), status_code=error.status_code, headers=error.headers
    )
