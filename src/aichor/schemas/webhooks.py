"""Webhooks on the wire: a project's webhook URLs and secret, and the answer to a push."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class WebhookView(BaseModel):
    project_id: str
    project: str
    secret: str = Field(description="Paste into the provider; Organization Admins only.")
    urls: dict[str, str] = Field(description="The push URL for each provider.")


class CommitOutcome(BaseModel):
    sha: str
    branch: str
    status: Literal["created", "ignored", "duplicate", "failed"]
    result: str = Field(description="`created <id>`, or `ignored: <why>` and the like.")
    experiment_id: str | None = None
    manifest_path: str | None = None
    submitted_as: str | None = Field(None, description="Email of the user the run counts for.")


class PushResult(BaseModel):
    provider: str
    event: str
    delivery_id: str
    duplicate_delivery: bool = Field(
        False, description="This delivery id was received before: nothing was created."
    )
    note: str = ""
    commits: list[CommitOutcome] = []
