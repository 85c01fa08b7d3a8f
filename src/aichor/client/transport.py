"""The HTTP transport under `aichor.client.Client`: one httpx session, errors mapped back.

HTTP errors become `aichor.errors` exceptions carrying the server's one-line message (the
status table `errors.HTTP_STATUS` read backwards), and a server that cannot be reached becomes
one line naming the URL. May import: httpx, pydantic, aichor.errors.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Self, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter

from aichor.errors import HTTP_STATUS, AichorError, InvalidInput, Unauthorized


class ServerUnreachable(AichorError):
    """The server did not answer at all (refused, timed out, bad address)."""


_T = TypeVar("_T", bound=BaseModel)
TIMEOUT = httpx.Timeout(30.0, connect=5.0)
STREAM_TIMEOUT = httpx.Timeout(5.0, read=60.0)
"""A stream is idle between lines: the server sends a keep-alive every 15 s."""


class Transport:
    """A session with one aichor server; `token` is the bearer API token (None before login)."""

    def __init__(
        self, url: str, token: str | None = None, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.url = url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(
            base_url=self.url, headers=headers, timeout=TIMEOUT, transport=transport
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _call(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> httpx.Response:
        query = {k: v for k, v in (params or {}).items() if v is not None}
        with self._reachable():
            response = self._http.request(method, path, params=query, **kwargs)
        if response.is_error:
            raise error_from_response(response)
        return response

    @contextmanager
    def _stream(
        self, path: str, params: Mapping[str, Any], headers: Mapping[str, str], timeout: Any
    ) -> Iterator[httpx.Response]:
        """A streamed GET whose errors are raised like `_call`'s."""
        query = {k: v for k, v in params.items() if v is not None}
        with (
            self._reachable(),
            self._http.stream(
                "GET", path, params=query, headers=headers, timeout=timeout
            ) as response,
        ):
            if response.is_error:
                response.read()
                raise error_from_response(response)
            yield response

    @contextmanager
    def _reachable(self) -> Iterator[None]:
        try:
            yield
        except httpx.TimeoutException:
            raise ServerUnreachable(
                f"the aichor server at {self.url} did not answer in time"
            ) from None
        except (
            httpx.ConnectError,
            httpx.RemoteProtocolError,
            httpx.UnsupportedProtocol,
            httpx.ReadError,
        ) as exc:
            raise ServerUnreachable(
                f"cannot reach the aichor server at {self.url}: is `aichor server` running?"
            ) from exc

    @staticmethod
    def _parse(shape: type[_T], response: httpx.Response) -> _T:
        return shape.model_validate(_json(response))

    @staticmethod
    def _parse_list(shape: type[_T], response: httpx.Response) -> list[_T]:
        payload = _json(response)
        if isinstance(payload, dict) and isinstance(payload.get("items"), list):
            payload = payload["items"]  # a paginated list answers {items, next_cursor}
        return TypeAdapter(list[shape]).validate_python(payload)  # type: ignore[valid-type]


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise AichorError(
            f"the server at {response.request.url} answered {response.status_code} "
            "with a body that is not JSON"
        ) from None


def error_from_response(response: httpx.Response) -> AichorError:
    """The server's `{"detail": {"message", "field"}}` (or FastAPI's shapes) → one exception."""
    message, field = _error_detail(response)
    status = response.status_code
    if status in (400, 422):
        return InvalidInput(message, field=field)
    if status == 401 and "authorization" in response.request.headers:
        return Unauthorized(f"{message} (run `aichor login`)")
    return _ERROR_BY_STATUS.get(status, AichorError)(message)


_ERROR_BY_STATUS = {status: error for error, status in HTTP_STATUS.items()}


def _error_detail(response: httpx.Response) -> tuple[str, str | None]:
    fallback = f"{response.status_code} {response.reason_phrase} from {response.request.url.path}"
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return fallback, None
    if isinstance(detail, dict):
        message, field = str(detail.get("message") or fallback), detail.get("field")
    elif isinstance(detail, list) and detail and isinstance(detail[0], dict):
        # FastAPI's request validation: [{"loc": [...], "msg": ...}, ...]
        loc = ".".join(str(part) for part in detail[0].get("loc", []) if part != "body")
        message, field = f"{loc}: {detail[0].get('msg', 'invalid')}", loc or None
    elif isinstance(detail, str) and detail:
        message, field = detail, None
    else:
        return fallback, None
    one_line = " ".join(message.split())
    return one_line, field if isinstance(field, str) else None
