"""Invitations: an Organization Admin invites an e-mail with roles and projects; the link's
token (shown once, stored as sha256) lets the invitee set a password and join.

The link is e-mailed when SMTP is configured; otherwise it is logged and returned to the admin.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from aichor.db import tables
from aichor.errors import InvalidInput
from aichor.schemas.accounts import AcceptedView, InvitationCreated, InvitationView
from aichor.services import accounts, audit, mail
from aichor.services.access import Actor, in_organisation, require_role, validate_roles
from aichor.services.tokens import hash_token
from aichor.settings import Settings

log = logging.getLogger(__name__)


def create_invitation(
    session: Session,
    actor: Actor,
    *,
    email: str,
    roles: list[str],
    project_ids: list[str],
    settings: Settings,
) -> InvitationCreated:
    """Invite `email`; the link goes out by SMTP when configured, else to the log."""
    require_role(actor)
    email = accounts.normalise_email(email)
    roles = validate_roles(roles)
    _check_projects(session, actor, project_ids)
    token = secrets.token_urlsafe(32)
    invitation = tables.Invitation(
        organisation_id=actor.organisation_id,
        email=email,
        roles=roles,
        project_ids=list(project_ids),
        token_hash=hash_token(token),
        invited_by=actor.user_id,
        expires_at=tables.utcnow() + timedelta(days=settings.invitation_days),
    )
    session.add(invitation)
    session.flush()
    audit.record(session, actor, "invitation.create", target=email, detail={"roles": roles})
    link = f"{settings.public_url.rstrip('/')}/invitations/accept?token={token}"
    emailed = _deliver(settings, email, actor.organisation.name, link)
    return InvitationCreated(
        id=invitation.id, email=email, link=link, expires_at=invitation.expires_at, emailed=emailed
    )


def _check_projects(session: Session, actor: Actor, project_ids: list[str]) -> None:
    for position, project_id in enumerate(project_ids):
        found = session.scalars(
            in_organisation(actor, tables.Project).where(tables.Project.id == project_id)
        ).first()
        if found is None:
            raise InvalidInput(f"project {project_id} not found", field=f"project_ids.{position}")


def _deliver(settings: Settings, email: str, organisation: str, link: str) -> bool:
    if not mail.smtp_configured(settings):
        log.warning("SMTP is not configured; invitation link for %s: %s", email, link)
        return False
    body = f"You are invited to the {organisation} organisation on aichor.\n\nJoin: {link}\n"
    mail.send(settings, to=email, subject=f"Invitation to {organisation} on aichor", body=body)
    return True


def list_invitations(session: Session, actor: Actor) -> list[InvitationView]:
    require_role(actor)
    rows = session.scalars(
        in_organisation(actor, tables.Invitation).order_by(tables.Invitation.created_at.desc())
    )
    return [
        InvitationView(
            id=r.id,
            email=r.email,
            roles=r.roles,
            project_ids=r.project_ids,
            expires_at=r.expires_at,
            accepted_at=r.accepted_at,
        )
        for r in rows
    ]


def accept_invitation(session: Session, *, token: str, password: str, name: str) -> AcceptedView:
    """Join the organisation: a new user sets a password, an existing one confirms theirs.

    An unknown, expired or used link is InvalidInput (400) and nothing is written."""
    digest = hash_token(token)
    invitation = session.scalars(
        select(tables.Invitation).where(tables.Invitation.token_hash == digest).with_for_update()
    ).one_or_none()
    if invitation is None or not hmac.compare_digest(invitation.token_hash, digest):
        raise InvalidInput("this invitation link is not valid", field="token")
    if invitation.accepted_at is not None:
        raise InvalidInput("this invitation was already used", field="token")
    if invitation.expires_at <= tables.utcnow():
        raise InvalidInput(
            f"this invitation expired on {invitation.expires_at:%Y-%m-%d %H:%M} UTC; "
            "ask for a new one",
            field="token",
        )
    user = _user_for(session, invitation.email, password, name)
    membership = accounts.add_member(
        session, organisation_id=invitation.organisation_id, user_id=user.id, roles=invitation.roles
    )
    _join_projects(session, invitation, user.id)
    invitation.accepted_at = tables.utcnow()
    audit.record(
        session,
        None,
        "invitation.accept",
        target=user.email,
        organisation_id=invitation.organisation_id,
    )
    return AcceptedView(user=accounts.user_view(user, membership.roles))


def _user_for(session: Session, email: str, password: str, name: str) -> tables.User:
    user = accounts.find_user(session, email)
    if user is None:
        return accounts.create_user(session, email=email, password=password, name=name)
    if user.password_hash is None:
        user.password_hash = accounts.hash_password(password)
    elif not accounts.verify_password(user.password_hash, password):
        raise InvalidInput(
            f"{email} already has an account: enter its current password", field="password"
        )
    if name and not user.name:
        user.name = name
    return user


def _join_projects(session: Session, invitation: tables.Invitation, user_id: str) -> None:
    for project_id in invitation.project_ids:
        project = session.get(tables.Project, project_id)
        if project is None or project.organisation_id != invitation.organisation_id:
            continue  # deleted since the invitation
        if session.get(tables.ProjectMember, (project_id, user_id)) is None:
            session.add(tables.ProjectMember(project_id=project_id, user_id=user_id))
