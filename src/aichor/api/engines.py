"""/api/engines: every member lists them; Infrastructure Admins manage them."""

from __future__ import annotations

from fastapi import APIRouter

from aichor.api.deps import CurrentActor, DbSession
from aichor.schemas.engines import CreateEngine, EngineView, UpdateEngine
from aichor.services import engines

router = APIRouter(prefix="/api/engines", tags=["engines"])


@router.get("")
def list_engines(db: DbSession, actor: CurrentActor) -> list[EngineView]:
    return engines.list_engines(db, actor)


@router.post("", status_code=201)
def create_engine(body: CreateEngine, db: DbSession, actor: CurrentActor) -> EngineView:
    return engines.create_engine(db, actor, spec=body)


@router.get("/{engine}")
def read_engine(engine: str, db: DbSession, actor: CurrentActor) -> EngineView:
    return engines.get_engine(db, actor, ref=engine)


@router.patch("/{engine}")
def update_engine(
    engine: str, body: UpdateEngine, db: DbSession, actor: CurrentActor
) -> EngineView:
    return engines.update_engine(db, actor, ref=engine, change=body)


@router.delete("/{engine}", status_code=204)
def delete_engine(engine: str, db: DbSession, actor: CurrentActor) -> None:
    engines.delete_engine(db, actor, ref=engine)
