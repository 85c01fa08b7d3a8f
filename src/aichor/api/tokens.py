"""/api/tokens: the caller's own API tokens (the token is shown once, at creation)."""

from __future__ import annotations

from fastapi import APIRouter

from aichor.api.deps import CurrentActor, DbSession
from aichor.schemas.accounts import CreateToken, TokenCreated, TokenView
from aichor.services import tokens

router = APIRouter(prefix="/api/tokens", tags=["tokens"])


@router.get("")
def list_tokens(db: DbSession, actor: CurrentActor) -> list[TokenView]:
    return tokens.list_tokens(db, actor)


@router.post("", status_code=201)
def create_token(body: CreateToken, db: DbSession, actor: CurrentActor) -> TokenCreated:
    return tokens.create_token(db, actor, name=body.name)


@router.delete("/{token_id}", status_code=204)
def revoke_token(token_id: str, db: DbSession, actor: CurrentActor) -> None:
    tokens.revoke_token(db, actor, token_id=token_id)
