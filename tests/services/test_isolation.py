"""Every read is scoped to the actor's organisation: the same names in another organisation
are invisible (NotFound, never Forbidden), and lists never mix tenants."""

from __future__ import annotations

import pytest

from aichor.db.session import Session
from aichor.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from aichor.schemas.engines import CreateEngine
from aichor.schemas.projects import CreateProject, CreateVariable
from aichor.services import accounts, engines, projects, tokens, usage, variables
from aichor.services.access import Actor
from aichor.settings import Settings
from tests.api.world import PASSWORD, make_experiment, make_member, make_org


def _tenant(db: Session, name: str) -> tuple[Actor, str, str]:
    """An admin, a project named `shared` and an engine named `shared` in a new organisation."""
    admin = make_member(db, make_org(db, name), f"admin@{name}.test", ["OrganizationAdmin"])
    engine = engines.create_engine(
        db, admin, spec=CreateEngine(name="shared", cpus=2, memory_gib=2)
    )
    project = projects.create_project(
        db, admin, spec=CreateProject(name="shared", engine_ids=[engine.id])
    )
    return admin, project.id, engine.id


def test_same_names_in_two_organisations_stay_apart(db: Session, db_settings: Settings) -> None:
    a, project_a, engine_a = _tenant(db, "a")
    b, project_b, engine_b = _tenant(db, "b")
    assert projects.read_project(db, a, ref="shared").id == project_a
    assert projects.read_project(db, b, ref="shared").id == project_b
    assert [e.id for e in engines.list_engines(db, b)] == [engine_b]
    with pytest.raises(NotFound):
        projects.read_project(db, b, ref=project_a)
    with pytest.raises(NotFound):
        engines.get_engine(db, b, ref=engine_a)
    with pytest.raises(NotFound):
        variables.list_variables(db, b, project=project_a)
    with pytest.raises(NotFound):
        projects.add_member(db, a, ref=project_a, user_id=b.user_id)


def test_usage_reports_only_the_actors_organisation(db: Session) -> None:
    a, project_a, engine_a = _tenant(db, "a")
    b, _project_b, _engine_b = _tenant(db, "b")
    make_experiment(db, a, project_a, engine_a)
    assert len(usage.usage_report(db, a).rows) == 1
    assert usage.usage_report(db, b).rows == []


def test_a_token_is_bound_to_its_organisation(db: Session) -> None:
    a, _p, _e = _tenant(db, "a")
    org_b = make_org(db, "b")
    accounts.add_member(db, organisation_id=org_b.id, user_id=a.user_id, roles=["User"])
    _row, token = tokens.issue_token(db, a, name="cli")
    actor = tokens.authenticate(db, token=token)
    assert actor.organisation_id == a.organisation_id
    assert actor.is_org_admin


def test_tokens_of_others_cannot_be_revoked_and_revoked_tokens_fail(db: Session) -> None:
    a, _p, _e = _tenant(db, "a")
    b, _p2, _e2 = _tenant(db, "b")
    row, token = tokens.issue_token(db, a, name="cli")
    with pytest.raises(NotFound):
        tokens.revoke_token(db, b, token_id=row.id)
    tokens.revoke_token(db, a, token_id=row.id)
    with pytest.raises(Unauthorized):
        tokens.authenticate(db, token=token)


def test_roles_gate_management(db: Session, db_settings: Settings) -> None:
    admin, project_id, _engine = _tenant(db, "a")
    finops = make_member(db, admin.organisation, "f@a.test", ["FinOpsAdmin"])
    with pytest.raises(Forbidden):
        engines.create_engine(db, finops, spec=CreateEngine(name="x", cpus=1, memory_gib=1))
    with pytest.raises(Forbidden):
        projects.create_project(db, finops, spec=CreateProject(name="x"))
    with pytest.raises(NotFound):  # not a member of the project: it does not exist for them
        variables.set_variable(
            db,
            finops,
            project=project_id,
            spec=CreateVariable(name="A", value="1"),
            secret=db_settings.secret(),
        )
    assert usage.usage_report(db, finops).rows == []


def test_passwords_are_argon2_and_emails_unique(db: Session) -> None:
    user = accounts.create_user(db, email="Someone@Example.org", password=PASSWORD)
    assert user.email == "someone@example.org"
    assert user.password_hash is not None and user.password_hash.startswith("$argon2")
    assert accounts.verify_password(user.password_hash, PASSWORD)
    assert not accounts.verify_password(user.password_hash, PASSWORD.upper())
    assert not accounts.verify_password(None, "anything")
    with pytest.raises(Conflict):
        accounts.create_user(db, email="someone@example.org", password=None)


def test_a_user_in_two_organisations_names_one_to_log_in(db: Session) -> None:
    a, _p, _e = _tenant(db, "a")
    a.user.password_hash = accounts.hash_password(PASSWORD)
    b_org = make_org(db, "b")
    accounts.add_member(db, organisation_id=b_org.id, user_id=a.user_id, roles=["User"])
    db.commit()
    with pytest.raises(InvalidInput) as error:
        accounts.login(db, email=a.user.email, password=PASSWORD)
    assert error.value.field == "organisation"
    actor = accounts.login(db, email=a.user.email, password=PASSWORD, organisation="b")
    assert actor.organisation_id == b_org.id
    assert actor.roles == frozenset({"User"})
