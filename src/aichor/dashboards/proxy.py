"""A streaming reverse proxy from an API route to a dashboard on the loopback interface.

`DashboardProxy` lives on the app (`app.state.dashboard_proxy`) and is closed with it. It
forwards the method, the query and the body, drops the caller's credentials (the bearer token,
the cookies) and hop-by-hop headers, and streams the answer back as it arrives.
"""

from __future__ import annotations

import httpx
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import StreamingResponse

from aichor.errors import InvalidInput, TooLarge, Unavailable

MAX_BODY = 16 * 1024**2
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
_NOT_FORWARDED = _HOP_BY_HOP | {"host", "authorization", "cookie", "x-csrf-token", "x-xsrf-token"}
# The server adds its own Date and Server: the dashboard's would make them appear twice.
_NOT_RETURNED = _HOP_BY_HOP | {"set-cookie", "date", "server"}


class DashboardProxy:
    """One pooled async HTTP client for every proxied dashboard request of this server."""

    def __init__(self, timeout: float = 120.0) -> None:
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=5.0), follow_redirects=False
        )

    async def forward(
        self, request: Request, upstream: str, path: str, *, mount: str | None = None
    ) -> StreamingResponse:
        """Send `request` to `upstream/path` (plus its query) and stream the answer back.

        `mount` is the public path `upstream` answers under, when the dashboard does not know
        it (the Ray dashboard): redirects to `/x` are rewritten to `<mount>/x`.
        """
        if any(part in {"..", "."} for part in path.split("/")):
            raise InvalidInput("path segments `.` and `..` are not allowed", field="path")
        url = f"{upstream.rstrip('/')}/{path}"
        if request.url.query:
            url = f"{url}?{request.url.query}"
        headers = [
            (name, value)
            for name, value in request.headers.items()
            if name.lower() not in _NOT_FORWARDED
        ]
        body = b""
        if request.method not in {"GET", "HEAD"}:
            body = await request.body()
            if len(body) > MAX_BODY:
                raise TooLarge(f"the request body is over {MAX_BODY} bytes")
        outgoing = self._client.build_request(request.method, url, headers=headers, content=body)
        try:
            answer = await self._client.send(outgoing, stream=True)
        except httpx.HTTPError as error:
            raise Unavailable(f"the dashboard did not answer: {type(error).__name__}") from error
        return StreamingResponse(
            answer.aiter_raw(),
            status_code=answer.status_code,
            headers=_answer_headers(answer, mount),
            background=BackgroundTask(answer.aclose),
        )

    async def aclose(self) -> None:
        await self._client.aclose()


def _answer_headers(answer: httpx.Response, mount: str | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in answer.headers.multi_items():
        lowered = name.lower()
        if lowered in _NOT_RETURNED:
            continue  # (a dashboard's cookies would land on the platform's origin)
        if lowered == "location" and mount and value.startswith("/") and not value.startswith("//"):
            value = f"{mount.rstrip('/')}{value}"
        headers[lowered] = value
    return headers
