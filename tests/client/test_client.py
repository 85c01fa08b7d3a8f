# ruff: noqa: S105, S107 - test credentials
"""The client against httpx's own mock transport (a real httpx stack, no socket), and a real
closed port for the unreachable case: request shapes, parsing, and errors as one line."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from io import BytesIO

import httpx
import pytest

from aichor.client import Client, ServerUnreachable
from aichor.errors import (
    AichorError,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
    TooLarge,
    Unauthorized,
)

EXPERIMENT = {
    "id": "0b8f6d0e-1111-2222-3333-444455556666",
    "experiment_id": "0b8f6d0e-1111-2222-3333-444455556666",
    "short_name": "exp-0b8f6d0e",
    "project": "default",
    "engine": "local",
    "user_email": "a@b.c",
    "source_kind": "archive",
    "commit_sha": "",
    "branch": "",
    "message": "m",
    "manifest_path": "aichor_manifests/manifest.yaml",
    "operator": "jobset",
    "status": "Processing",
    "current_step": "Waiting",
    "steps": [
        {
            "step": "Waiting",
            "status": "Running",
            "message": "",
            "started_at": "2026-01-01T00:00:00Z",
            "finished_at": None,
        }
    ],
    "requested": {"cpus": 1, "memory_gib": 1, "gpus": 0},
    "exit_code": None,
    "failure_reason": "",
    "failed_replica": "",
    "resubmitted_from": None,
    "created_at": "2026-01-01T00:00:00Z",
    "updated_at": "2026-01-01T00:00:00Z",
    "replicas": [],
    "a_field_from_a_newer_server": 1,
}

Handler = Callable[[httpx.Request], httpx.Response]


def client_with(handler: Handler, token: str | None = "tok") -> Client:
    return Client("http://aichor.test/", token, transport=httpx.MockTransport(handler))


def test_login_posts_credentials_and_parses_the_token() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200,
            json={
                "token": "secret",
                "user": {"id": "u1", "email": "a@b.c", "name": "A", "roles": ["User"]},
                "organisation": {"id": "o1", "name": "default"},
            },
        )

    result = client_with(handler, token=None).login("a@b.c", "pw")
    assert result.token == "secret" and result.organisation.name == "default"
    assert seen[0].url.path == "/api/auth/login"
    assert json.loads(seen[0].content)["password"] == "pw"
    assert "authorization" not in seen[0].headers


def test_bearer_token_and_query_without_empty_parameters() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"items": [EXPERIMENT], "next_cursor": None})

    page = client_with(handler).list_experiments("default", status="Failed", limit=5)
    assert page.items[0].steps[0].step == "Waiting"
    assert seen[0].headers["authorization"] == "Bearer tok"
    assert dict(seen[0].url.params) == {"status": "Failed", "limit": "5"}
    assert seen[0].url.path == "/api/projects/default/experiments"


def test_submit_archive_is_multipart_with_the_manifest_path() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        request.read()
        seen.append(request)
        return httpx.Response(201, json=EXPERIMENT)

    archive = BytesIO(b"\x1f\x8b fake gzip")
    exp = client_with(handler).submit_archive(
        "p1", archive, manifest_path="manifest.yaml", message="m"
    )
    assert exp.experiment_id == EXPERIMENT["id"]
    body = seen[0].content
    assert seen[0].headers["content-type"].startswith("multipart/form-data")
    assert b'name="manifest_path"' in body and b"manifest.yaml" in body
    assert b'name="archive"; filename="source.tar.gz"' in body and b"fake gzip" in body
    assert b'name="engine"' not in body


@pytest.mark.parametrize(
    ("status", "error", "expected"),
    [
        (400, InvalidInput, "bad value"),
        (401, Unauthorized, "bad value (run `aichor login`)"),
        (403, Forbidden, "bad value"),
        (404, NotFound, "bad value"),
        (409, Conflict, "bad value"),
        (413, TooLarge, "bad value"),
        (429, RateLimited, "bad value"),
        (500, AichorError, "bad value"),
    ],
)
def test_error_bodies_become_one_line_exceptions(
    status: int, error: type[AichorError], expected: str
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        detail = {"message": "bad\n value", "field": "name"}
        return httpx.Response(status, json={"detail": detail})

    with pytest.raises(error) as caught:
        client_with(handler).get_experiment("x")
    assert caught.value.message == expected
    if isinstance(caught.value, InvalidInput):
        assert caught.value.field == "name"


def test_fastapi_validation_errors_name_the_field() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        detail = [{"loc": ["body", "cpus"], "msg": "Input should be a number"}]
        return httpx.Response(422, json={"detail": detail})

    with pytest.raises(InvalidInput, match=r"^cpus: Input should be a number$"):
        client_with(handler).create_engine({"name": "e", "cpus": "x"})


def test_non_json_error_and_success_bodies() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        code = 502 if request.url.path == "/api/me" else 200
        return httpx.Response(code, text="<html>proxy</html>")

    with pytest.raises(AichorError, match=r"^502 Bad Gateway from /api/me$"):
        client_with(handler).me()
    with pytest.raises(AichorError, match="not JSON"):
        client_with(handler).list_projects()


def test_a_closed_port_is_one_line_naming_the_url() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with pytest.raises(ServerUnreachable) as caught, Client(url) as client:
        client.me()
    assert caught.value.message == (
        f"cannot reach the aichor server at {url}: is `aichor server` running?"
    )


def test_logs_page_and_lists() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/logs"):
            assert request.url.params["source"] == "worker-0"
            lines = [{"timestamp": "2026-01-01T00:00:00Z", "source": "worker-0", "text": "hello"}]
            return httpx.Response(200, json={"lines": lines, "next": 1, "finished": True})
        engine = {"id": "e1", "name": "local", "kind": "local", "cpus": 2, "memory_gib": 4,
                  "gpus": {}, "settings": {}, "created_at": "2026-01-01T00:00:00Z"}  # fmt: skip
        return httpx.Response(200, json=[engine])

    client = client_with(handler)
    page = client.read_logs("x", source="worker-0")
    assert (page.lines[0].text, page.next, page.finished) == ("hello", 1, True)
    assert client.list_engines()[0].name == "local"


class _DroppedStream(httpx.SyncByteStream):
    """An SSE body whose connection drops after its first event: a real server cannot be
    made to drop a connection at a chosen byte, so the mock transport does it."""

    def __init__(self, events: list[bytes], drop: bool) -> None:
        self.events, self.drop = events, drop

    def __iter__(self):  # type: ignore[no-untyped-def]
        yield from self.events
        if self.drop:
            raise httpx.ReadError("connection reset")


def test_follow_logs_resumes_from_the_last_event_after_a_dropped_connection() -> None:
    def event(kind: str, offset: int, texts: list[str]) -> bytes:
        lines = [["2026-01-01T00:00:00+00:00", "w-0", text] for text in texts]
        body = {"lines": lines, "next": offset, "finished": kind == "end", "purged_at": None}
        return f"id: {offset}\nevent: {kind}\ndata: {json.dumps(body)}\n\n".encode()

    seen: list[tuple[str | None, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.headers.get("last-event-id"), request.url.params["after"]))
        if len(seen) == 1:
            stream = _DroppedStream([b"retry: 1000\n\n", event("lines", 40, ["a", "b"])], True)
        else:
            stream = _DroppedStream([event("lines", 60, ["c"]), event("end", 60, [])], False)
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=stream)

    pages = list(client_with(handler).follow_logs("x"))
    assert [line.text for page in pages for line in page.lines] == ["a", "b", "c"]
    assert pages[-1].finished and not pages[0].finished
    assert seen == [("0", "0"), ("40", "40")]
