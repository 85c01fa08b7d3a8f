"""Accounts on the wire: login, the caller, API tokens, invitations, organisation members."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginRequest(Strict):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1000)
    organisation: str | None = Field(None, description="Name or id; needed when in several.")


class OrganisationRef(BaseModel):
    id: str
    name: str


class UserView(BaseModel):
    id: str
    email: str
    name: str
    roles: list[str] = []


class MeView(BaseModel):
    id: str
    email: str
    name: str
    organisation: OrganisationRef
    roles: list[str]


class LoginView(BaseModel):
    token: str
    user: UserView
    organisation: OrganisationRef


class SessionView(BaseModel):
    """Answer of POST /api/auth/session; the session itself travels in cookies."""

    user: UserView
    organisation: OrganisationRef
    csrf_token: str
    expires_at: datetime


class CreateToken(Strict):
    name: str = Field(min_length=1, max_length=100)


class TokenView(BaseModel):
    id: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None = None


class TokenCreated(BaseModel):
    id: str
    name: str
    prefix: str
    token: str = Field(description="Shown once; only its hash is stored.")


class CreateInvitation(Strict):
    email: str = Field(min_length=3, max_length=320)
    roles: list[str] = ["User"]
    project_ids: list[str] = []


class InvitationView(BaseModel):
    id: str
    email: str
    roles: list[str]
    project_ids: list[str]
    expires_at: datetime
    accepted_at: datetime | None = None


class InvitationCreated(BaseModel):
    id: str
    email: str
    link: str = Field(description="Shown to the admin; also e-mailed when SMTP is configured.")
    expires_at: datetime
    emailed: bool


class AcceptInvitation(Strict):
    token: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=8, max_length=1000)
    name: str = Field("", max_length=200)


class AcceptedView(BaseModel):
    user: UserView


class SetRoles(Strict):
    roles: list[str]
