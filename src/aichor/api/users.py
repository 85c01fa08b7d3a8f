"""/api/users: the organisation's members and their roles (Organization Admins)."""

from __future__ import annotations

from fastapi import APIRouter

from aichor.api.deps import CurrentActor, DbSession
from aichor.schemas.accounts import SetRoles, UserView
from aichor.services import accounts

router = APIRouter(prefix="/api/users", tags=["users"])


@router.get("")
def list_users(db: DbSession, actor: CurrentActor) -> list[UserView]:
    return accounts.list_members(db, actor)


@router.put("/{user_id}/roles")
def set_roles(user_id: str, body: SetRoles, db: DbSession, actor: CurrentActor) -> UserView:
    return accounts.set_roles(db, actor, user_id=user_id, roles=body.roles)
