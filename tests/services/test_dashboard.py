"""The dashboard's page data: the project dropdown holds only the projects the user belongs
to, the engine dropdown only that project's engines, the list filters by engine, and nothing
of another organisation is reachable."""

from __future__ import annotations

import pytest

from aichor.db.session import Session
from aichor.errors import NotFound
from aichor.schemas.engines import CreateEngine
from aichor.schemas.projects import CreateProject
from aichor.services import dashboard, engines, projects
from aichor.services.dashboard import Filters
from tests.api.world import make_experiment, make_member, make_org


def test_dropdowns_list_only_the_users_projects_and_their_engines(db: Session) -> None:
    organisation = make_org(db, "acme")
    admin = make_member(db, organisation, "admin@acme.test", ["OrganizationAdmin"])
    user = make_member(db, organisation, "user@acme.test", ["User"])
    gpu = engines.create_engine(db, admin, spec=CreateEngine(name="gpu", cpus=8, memory_gib=32))
    cpu = engines.create_engine(db, admin, spec=CreateEngine(name="cpu", cpus=4, memory_gib=8))
    engines.create_engine(db, admin, spec=CreateEngine(name="unused", cpus=1, memory_gib=1))
    mine = projects.create_project(
        db, admin, spec=CreateProject(name="vision", engine_ids=[gpu.id, cpu.id])
    )
    projects.create_project(db, admin, spec=CreateProject(name="secret", engine_ids=[gpu.id]))
    projects.add_member(db, admin, ref=mine.id, user_id=user.user_id)
    on_gpu = make_experiment(db, user, mine.id, gpu.id)
    make_experiment(db, admin, mine.id, cpu.id)

    choice = dashboard.choose(db, user, project=None, engine=None)
    assert [p.name for p in choice.projects] == ["vision"]
    assert sorted(e.name for e in choice.engines) == ["cpu", "gpu"]
    with pytest.raises(NotFound):
        dashboard.choose(db, user, project="secret", engine=None)
    with pytest.raises(NotFound):
        dashboard.choose(db, user, project="vision", engine="unused")

    page = dashboard.experiments_page(
        db, user, project="vision", engine="gpu", filters=dashboard.Filters()
    )
    assert [e.id for e in page.page.items] == [on_gpu.id]
    assert page.submitters == ["admin@acme.test", "user@acme.test"]
    # A new submitter is an option on the next page (the known ones are not looked up again).
    newcomer = make_member(db, organisation, "new@acme.test", ["User"])
    projects.add_member(db, admin, ref=mine.id, user_id=newcomer.user_id)
    make_experiment(db, newcomer, mine.id, cpu.id)
    again = dashboard.experiments_page(db, user, project="vision", engine=None, filters=Filters())
    assert again.submitters == ["admin@acme.test", "new@acme.test", "user@acme.test"]


def test_nothing_of_another_organisation_is_reachable(db: Session) -> None:
    acme = make_org(db, "acme")
    admin = make_member(db, acme, "admin@acme.test", ["OrganizationAdmin"])
    engine = engines.create_engine(db, admin, spec=CreateEngine(name="e", cpus=1, memory_gib=1))
    project = projects.create_project(
        db, admin, spec=CreateProject(name="vision", engine_ids=[engine.id])
    )
    experiment = make_experiment(db, admin, project.id, engine.id)
    outsider = make_member(db, make_org(db, "rival"), "eve@rival.test", ["OrganizationAdmin"])

    empty = dashboard.experiments_page(
        db, outsider, project=None, engine=None, filters=dashboard.Filters()
    )
    assert empty.choice.project is None and empty.page.items == []
    with pytest.raises(NotFound):
        dashboard.choose(db, outsider, project=project.id, engine=None)
    with pytest.raises(NotFound):
        dashboard.experiment_detail(db, outsider, experiment.id)
    with pytest.raises(NotFound):
        dashboard.project_admin(db, outsider, ref=project.id)
