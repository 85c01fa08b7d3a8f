"""Typed HTTP client of the aichor REST API (docs/api.md), one method per route.

Used by the CLI only (the server never calls itself). Responses are parsed into the pydantic
shapes of aichor.schemas (re-exported by views.py); HTTP errors become `aichor.errors`
exceptions carrying the server's one-line message, and a server that cannot be reached becomes
one line naming the URL.
May import: httpx, pydantic, aichor.errors, aichor.schemas.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

from aichor.client import sse
from aichor.client.transport import (
    STREAM_TIMEOUT,
    TIMEOUT,
    ServerUnreachable,
    Transport,
    error_from_response,
)
from aichor.client.views import (
    AccessKeyCreated,
    EngineView,
    ExperimentPage,
    ExperimentView,
    InvitationCreated,
    InvitationView,
    LoginView,
    LogPage,
    LogRetention,
    MetricsView,
    MeView,
    ObjectView,
    ProjectView,
    ReplicaListView,
    StorageView,
    TokenCreated,
    TokenView,
    UserView,
    VariableView,
    WebhookView,
)

__all__ = ["Client", "ServerUnreachable", "error_from_response"]


class Client(Transport):
    """A session with one aichor server, one method per route (see `Transport` for errors)."""

    # -- auth and tokens ------------------------------------------------------------------
    def login(self, email: str, password: str, organisation: str | None = None) -> LoginView:
        body = {"email": email, "password": password, "organisation": organisation}
        return self._parse(LoginView, self._call("POST", "/api/auth/login", json=body))

    def logout(self) -> None:
        self._call("POST", "/api/auth/logout")

    def me(self) -> MeView:
        return self._parse(MeView, self._call("GET", "/api/me"))

    def list_tokens(self) -> list[TokenView]:
        return self._parse_list(TokenView, self._call("GET", "/api/tokens"))

    def create_token(self, name: str) -> TokenCreated:
        return self._parse(TokenCreated, self._call("POST", "/api/tokens", json={"name": name}))

    def revoke_token(self, token_id: str) -> None:
        self._call("DELETE", f"/api/tokens/{token_id}")

    # -- users and invitations ------------------------------------------------------------
    def list_users(self) -> list[UserView]:
        return self._parse_list(UserView, self._call("GET", "/api/users"))

    def set_roles(self, user_id: str, roles: list[str]) -> UserView:
        response = self._call("PUT", f"/api/users/{user_id}/roles", json={"roles": roles})
        return self._parse(UserView, response)

    def list_invitations(self) -> list[InvitationView]:
        return self._parse_list(InvitationView, self._call("GET", "/api/invitations"))

    def invite(self, email: str, roles: list[str], project_ids: list[str]) -> InvitationCreated:
        body = {"email": email, "roles": roles, "project_ids": project_ids}
        return self._parse(InvitationCreated, self._call("POST", "/api/invitations", json=body))

    # -- projects, members and variables -------------------------------------------------
    def list_projects(self) -> list[ProjectView]:
        return self._parse_list(ProjectView, self._call("GET", "/api/projects"))

    def create_project(self, body: Mapping[str, Any]) -> ProjectView:
        return self._parse(ProjectView, self._call("POST", "/api/projects", json=dict(body)))

    def get_project(self, project: str) -> ProjectView:
        return self._parse(ProjectView, self._call("GET", f"/api/projects/{project}"))

    def update_project(self, project: str, changes: Mapping[str, Any]) -> ProjectView:
        response = self._call("PATCH", f"/api/projects/{project}", json=dict(changes))
        return self._parse(ProjectView, response)

    def delete_project(self, project: str) -> None:
        self._call("DELETE", f"/api/projects/{project}")

    def add_member(self, project: str, user_id: str) -> None:
        self._call("PUT", f"/api/projects/{project}/members/{user_id}")

    def remove_member(self, project: str, user_id: str) -> None:
        self._call("DELETE", f"/api/projects/{project}/members/{user_id}")

    def list_variables(self, project: str) -> list[VariableView]:
        response = self._call("GET", f"/api/projects/{project}/variables")
        return self._parse_list(VariableView, response)

    def create_variable(
        self, project: str, *, name: str, value: str, kind: str, sensitive: bool
    ) -> VariableView:
        body = {"name": name, "value": value, "kind": kind, "sensitive": sensitive}
        response = self._call("POST", f"/api/projects/{project}/variables", json=body)
        return self._parse(VariableView, response)

    def delete_variable(self, project: str, variable_id: str) -> None:
        self._call("DELETE", f"/api/projects/{project}/variables/{variable_id}")

    def webhook(self, project: str, *, rotate: bool = False) -> WebhookView:
        """The project's webhook URLs and secret; `rotate` makes a new secret first."""
        if rotate:
            response = self._call("POST", f"/api/projects/{project}/webhook/rotate")
        else:
            response = self._call("GET", f"/api/projects/{project}/webhook")
        return self._parse(WebhookView, response)

    # -- engines ----------------------------------------------------------------------------
    def list_engines(self) -> list[EngineView]:
        return self._parse_list(EngineView, self._call("GET", "/api/engines"))

    def create_engine(self, body: Mapping[str, Any]) -> EngineView:
        return self._parse(EngineView, self._call("POST", "/api/engines", json=dict(body)))

    def get_engine(self, engine: str) -> EngineView:
        return self._parse(EngineView, self._call("GET", f"/api/engines/{engine}"))

    def update_engine(self, engine: str, changes: Mapping[str, Any]) -> EngineView:
        response = self._call("PATCH", f"/api/engines/{engine}", json=dict(changes))
        return self._parse(EngineView, response)

    def delete_engine(self, engine: str) -> None:
        self._call("DELETE", f"/api/engines/{engine}")

    # -- experiments --------------------------------------------------------------------------
    def submit_archive(
        self,
        project: str,
        archive: IO[bytes],
        *,
        manifest_path: str,
        message: str,
        engine: str | None = None,
    ) -> ExperimentView:
        """Upload a tar.gz of the working tree; httpx streams the file in chunks."""
        data = {"manifest_path": manifest_path, "message": message}
        if engine:
            data["engine"] = engine
        files = {"archive": ("source.tar.gz", archive, "application/gzip")}
        path = f"/api/projects/{project}/experiments"
        return self._parse(ExperimentView, self._call("POST", path, data=data, files=files))

    def submit_commit(
        self,
        project: str,
        *,
        commit_sha: str,
        branch: str | None,
        manifest_path: str,
        message: str | None,
        engine: str | None = None,
    ) -> ExperimentView:
        body = {
            "commit_sha": commit_sha,
            "branch": branch,
            "manifest_path": manifest_path,
            "message": message,
            "engine": engine,
        }
        path = f"/api/projects/{project}/experiments"
        return self._parse(ExperimentView, self._call("POST", path, json=body))

    def list_experiments(
        self,
        project: str,
        *,
        status: str | None = None,
        user: str | None = None,
        branch: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> ExperimentPage:
        params = {
            "status": status,
            "user": user,
            "branch": branch,
            "limit": limit,
            "cursor": cursor,
        }
        response = self._call("GET", f"/api/projects/{project}/experiments", params=params)
        return self._parse(ExperimentPage, response)

    def get_experiment(self, experiment_id: str) -> ExperimentView:
        return self._parse(ExperimentView, self._call("GET", f"/api/experiments/{experiment_id}"))

    def cancel_experiment(self, experiment_id: str) -> ExperimentView:
        response = self._call("POST", f"/api/experiments/{experiment_id}/cancel")
        return self._parse(ExperimentView, response)

    def resubmit_experiment(self, experiment_id: str) -> ExperimentView:
        response = self._call("POST", f"/api/experiments/{experiment_id}/resubmit")
        return self._parse(ExperimentView, response)

    def read_logs(
        self,
        experiment_id: str,
        *,
        source: str | None = None,
        after: int = 0,
        limit: int | None = None,
    ) -> LogPage:
        params = {"source": source, "after": after, "limit": limit}
        response = self._call("GET", f"/api/experiments/{experiment_id}/logs", params=params)
        return self._parse(LogPage, response)

    def list_replicas(self, experiment_id: str) -> ReplicaListView:
        response = self._call("GET", f"/api/experiments/{experiment_id}/replicas")
        return self._parse(ReplicaListView, response)

    def read_metrics(
        self, experiment_id: str, *, replica: str | None = None, points: int | None = None
    ) -> MetricsView:
        params = {"replica": replica, "points": points}
        response = self._call("GET", f"/api/experiments/{experiment_id}/metrics", params=params)
        return self._parse(MetricsView, response)

    # -- storage ---------------------------------------------------------------------------------
    def get_storage(self, project: str) -> StorageView:
        return self._parse(StorageView, self._call("GET", f"/api/projects/{project}/storage"))

    def issue_storage_key(self, project: str) -> AccessKeyCreated:
        response = self._call("POST", f"/api/projects/{project}/storage/keys")
        return self._parse(AccessKeyCreated, response)

    def list_objects(self, project: str, bucket: str, prefix: str = "") -> list[ObjectView]:
        path = f"/api/projects/{project}/storage/objects/{quote(bucket, safe='')}"
        return self._parse_list(ObjectView, self._call("GET", path, params={"prefix": prefix}))

    def upload_object(self, project: str, bucket: str, key: str, source: Path) -> ObjectView:
        """Send a local file as the object's content; httpx streams it from disk."""
        with source.open("rb") as handle:
            response = self._call(
                "PUT", _object_path(project, bucket, key), content=_file_chunks(handle)
            )
        return self._parse(ObjectView, response)

    def download_object(self, project: str, bucket: str, key: str, target: Path) -> int:
        """Stream the object into `target` (replaced whole once complete); bytes written."""
        partial = target.with_name(f".{target.name}.part")
        with self._reachable(), self._http.stream("GET", _object_path(project, bucket, key)) as r:
            if r.is_error:
                r.read()
                raise error_from_response(r)
            size = 0
            with partial.open("wb") as handle:
                for chunk in r.iter_bytes():
                    handle.write(chunk)
                    size += len(chunk)
        os.replace(partial, target)
        return size

    def delete_object(self, project: str, bucket: str, key: str) -> None:
        self._call("DELETE", _object_path(project, bucket, key))

    def follow_logs(
        self, experiment_id: str, *, source: str | None = None, after: int = 0, retries: int = 5
    ) -> Iterator[LogPage]:
        """Pages of new lines as the server streams them (SSE), until the experiment ended.

        A dropped connection is resumed from the last event's offset (`Last-Event-ID`), so no
        line is missed or repeated; the last page has `finished` set.
        """
        position, failures = after, 0
        path = f"/api/experiments/{experiment_id}/logs/stream"
        while True:
            headers = {"Last-Event-ID": str(position), "Accept": "text/event-stream"}
            params = {"source": source, "after": position}
            try:
                with self._stream(path, params, headers, STREAM_TIMEOUT) as response:
                    for event in sse.parse(response.iter_lines()):
                        page, failures = sse.log_page(event.data), 0
                        if event.kind == "end":
                            yield page.model_copy(update={"finished": True})
                            return
                        position = page.next
                        yield page
            except ServerUnreachable:
                failures += 1
                if failures > retries:
                    raise
                time.sleep(min(0.2 * 2**failures, 5.0))

    def download_logs(
        self, experiment_id: str, target: IO[bytes], *, source: str | None = None
    ) -> int:
        """Write the whole log of `source` (default: every replica) to `target`; bytes written."""
        path = f"/api/experiments/{experiment_id}/logs/download"
        written = 0
        with self._stream(path, {"source": source}, {}, TIMEOUT) as response:
            for data in response.iter_bytes():
                target.write(data)
                written += len(data)
        return written

    def get_log_retention(self) -> LogRetention:
        return self._parse(LogRetention, self._call("GET", "/api/organisation/log-retention"))

    def set_log_retention(self, days: int) -> LogRetention:
        response = self._call("PUT", "/api/organisation/log-retention", json={"days": days})
        return self._parse(LogRetention, response)


def _object_path(project: str, bucket: str, key: str) -> str:
    """Each segment percent-encoded, dots too: httpx would resolve `..` before sending, and the
    server must see the key as typed to refuse it by name."""
    segments = "/".join(quote(part, safe="").replace(".", "%2E") for part in key.split("/"))
    return f"/api/projects/{project}/storage/objects/{quote(bucket, safe='')}/{segments}"


def _file_chunks(handle: IO[bytes]) -> Iterator[bytes]:
    while chunk := handle.read(1 << 20):
        yield chunk
