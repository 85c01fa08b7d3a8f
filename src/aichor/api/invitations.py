"""/api/invitations: Organization Admins invite by e-mail; the invitee accepts with the token."""

from __future__ import annotations

from fastapi import APIRouter

from aichor.api.deps import AppSettings, CurrentActor, DbSession
from aichor.schemas.accounts import (
    AcceptedView,
    AcceptInvitation,
    CreateInvitation,
    InvitationCreated,
    InvitationView,
)
from aichor.services import invitations

router = APIRouter(prefix="/api/invitations", tags=["invitations"])


@router.post("/accept")
def accept(body: AcceptInvitation, db: DbSession) -> AcceptedView:
    return invitations.accept_invitation(
        db, token=body.token, password=body.password, name=body.name
    )


@router.get("")
def list_invitations(db: DbSession, actor: CurrentActor) -> list[InvitationView]:
    return invitations.list_invitations(db, actor)


@router.post("", status_code=201)
def invite(
    body: CreateInvitation, db: DbSession, actor: CurrentActor, settings: AppSettings
) -> InvitationCreated:
    return invitations.create_invitation(
        db,
        actor,
        email=body.email,
        roles=body.roles,
        project_ids=body.project_ids,
        settings=settings,
    )
