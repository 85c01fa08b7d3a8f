"""Webhooks: providers' pushes (`POST /api/webhooks/{provider}/{project_id}`, authenticated by
the project's webhook secret, not by a user) and, for Organization Admins, the project's
webhook URLs and secret (`/api/projects/{project}/webhook`). Thin: one service call each."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from aichor.api.deps import AppSettings, CurrentActor, DbSession
from aichor.errors import TooLarge
from aichor.schemas.webhooks import PushResult, WebhookView
from aichor.services import triggers

router = APIRouter(tags=["webhooks"])
MAX_BODY = 25 * 1024**2
"""GitHub's own cap on a webhook payload."""


async def raw_body(request: Request) -> bytes:
    """The exact bytes the provider signed."""
    body = await request.body()
    if len(body) > MAX_BODY:
        raise TooLarge(f"the webhook body is {len(body)} bytes; the limit is {MAX_BODY}")
    return body


@router.post("/api/webhooks/{provider}/{project_id}")
def receive_push(
    provider: str,
    project_id: str,
    request: Request,
    body: Annotated[bytes, Depends(raw_body)],
    db: DbSession,
    settings: AppSettings,
) -> PushResult:
    headers = {name.lower(): value for name, value in request.headers.items()}
    return triggers.receive_push(
        db, settings=settings, provider=provider, project_id=project_id, headers=headers, body=body
    )


@router.get("/api/projects/{project}/webhook")
def show_webhook(
    project: str, db: DbSession, actor: CurrentActor, settings: AppSettings
) -> WebhookView:
    return triggers.show_webhook(db, actor, project=project, settings=settings)


@router.post("/api/projects/{project}/webhook/rotate")
def rotate_webhook_secret(
    project: str, db: DbSession, actor: CurrentActor, settings: AppSettings
) -> WebhookView:
    return triggers.rotate_webhook_secret(db, actor, project=project, settings=settings)
