"""A small two-organisation world built through the real services, for the API tests.

Organisation A has a project P on engine E (with a variable, an experiment, an invitation and a
usage record) and one member per persona; organisation B has its own admin: the outsider.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from aichor.db import tables
from aichor.db.session import Session
from aichor.lifecycle import ExperimentStatus, Step
from aichor.schemas.engines import CreateEngine
from aichor.schemas.projects import CreateProject, CreateVariable
from aichor.services import (
    accounts,
    engines,
    invitations,
    projects,
    storage,
    tokens,
    variables,
)
from aichor.services.access import Actor, actor_for
from aichor.settings import Settings

OBJECT_KEY = "data/train.csv"
"""An object every world's project holds in its input bucket."""
PASSWORD = "correct horse battery"  # noqa: S105 (test fixture)
PASSWORD_HASH = accounts.hash_password(PASSWORD)
"""Hashed once: argon2 takes a quarter of a second by design."""
PERSONA_ROLES: dict[str, list[str]] = {
    "project_user": ["User"],
    "other_user": ["User"],
    "org_admin": ["OrganizationAdmin"],
    "infra_admin": ["InfrastructureAdmin"],
    "finops_admin": ["FinOpsAdmin"],
}


@dataclass
class World:
    actors: dict[str, Actor] = field(default_factory=dict)
    bearer: dict[str, str] = field(default_factory=dict)
    spare_token_id: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)
    invitation_token: str = ""

    def headers(self, persona: str) -> dict[str, str]:
        token = self.bearer.get(persona)
        return {"Authorization": f"Bearer {token}"} if token else {}


def make_org(session: Session, name: str) -> tables.Organisation:
    organisation = tables.Organisation(name=name)
    session.add(organisation)
    session.flush()
    return organisation


def make_member(
    session: Session,
    organisation: tables.Organisation,
    email: str,
    roles: list[str],
    password: str | None = None,
) -> Actor:
    user = accounts.create_user(session, email=email, password=None)
    if password is not None:
        user.password_hash = (
            PASSWORD_HASH if password == PASSWORD else accounts.hash_password(password)
        )
    accounts.add_member(session, organisation_id=organisation.id, user_id=user.id, roles=roles)
    return actor_for(session, user, organisation.id)


def build_world(session: Session, settings: Settings) -> World:
    world = World()
    org_a, org_b = make_org(session, "org-a"), make_org(session, "org-b")
    for persona, roles in PERSONA_ROLES.items():
        password = PASSWORD if persona == "project_user" else None
        world.actors[persona] = make_member(session, org_a, f"{persona}@a.test", roles, password)
    world.actors["outsider"] = make_member(session, org_b, "admin@b.test", ["OrganizationAdmin"])
    for persona, actor in world.actors.items():
        world.bearer[persona] = tokens.issue_token(session, actor, name="test")[1]
        world.spare_token_id[persona] = tokens.issue_token(session, actor, name="spare")[0].id
    admin = world.actors["org_admin"]
    engine = engines.create_engine(
        session, admin, spec=CreateEngine(name="e-a", cpus=4, memory_gib=8, gpus={"A100": 1})
    )
    project = projects.create_project(
        session, admin, spec=CreateProject(name="p-a", engine_ids=[engine.id])
    )
    projects.add_member(
        session, admin, ref=project.id, user_id=world.actors["project_user"].user_id
    )
    variable = variables.set_variable(
        session,
        admin,
        project=project.id,
        spec=CreateVariable(name="SEED", value="1"),
        secret=settings.secret(),
    )
    created = invitations.create_invitation(
        session,
        admin,
        email="invitee@a.test",
        roles=["User"],
        project_ids=[project.id],
        settings=settings,
    )
    world.invitation_token = created.link.split("token=", 1)[1]
    experiment = make_experiment(session, world.actors["project_user"], project.id, engine.id)
    put_object(session, admin, settings, project.id, "input", OBJECT_KEY, b"a,b\n1,2\n")
    world.ids.update(
        organisation=org_a.id,
        project=project.id,
        engine=engine.id,
        variable=variable.id,
        experiment=experiment.id,
        other_user=world.actors["other_user"].user_id,
    )
    session.commit()
    return world


def put_object(
    session: Session,
    actor: Actor,
    settings: Settings,
    project: str,
    bucket: str,
    key: str,
    content: bytes,
) -> None:
    """An object in one of the project's buckets, written through the storage service."""
    settings.home.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=settings.home, delete=False) as upload:
        upload.write(content)
    storage.put_object(
        session,
        actor,
        settings=settings,
        project=project,
        bucket=bucket,
        key=key,
        upload=Path(upload.name),
    )


def make_experiment(
    session: Session, actor: Actor, project_id: str, engine_id: str
) -> tables.Experiment:
    """A finished experiment with a usage record of 1 hour, 2 CPUs, 4 GiB and 1 A100."""
    ended = tables.utcnow()
    experiment = tables.Experiment(
        organisation_id=actor.organisation_id,
        project_id=project_id,
        engine_id=engine_id,
        user_id=actor.user_id,
        source_kind="commit",
        commit_sha="0" * 40,
        manifest_path="manifest.yaml",
        status=ExperimentStatus.SUCCEEDED.value,
        current_step=Step.COMPLETED.value,
        requested_cpus=2,
        requested_memory_gib=4,
        requested_gpus=1,
    )
    session.add(experiment)
    session.flush()
    session.add(
        tables.UsageRecord(
            organisation_id=experiment.organisation_id,
            project_id=project_id,
            user_id=actor.user_id,
            engine_id=engine_id,
            experiment_id=experiment.id,
            cpu_seconds=2 * 3600,
            memory_gib_seconds=4 * 3600,
            gpu_seconds={"A100": 3600},
            started_at=ended - timedelta(hours=1),
            ended_at=ended,
        )
    )
    session.flush()
    return experiment
