"""What the dashboard's pages show, one call per page: the project and engine choice, the
experiments list with its filters, an experiment with its manifest and source, the profile.

Called by `aichor.web` only; each function composes the resource services (projects, engines,
experiments, tokens) so that a page route stays parse → one call → template.
"""

from __future__ import annotations

import tarfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aichor.db import tables
from aichor.errors import NotFound
from aichor.lifecycle import ReplicaStatus
from aichor.schemas.accounts import InvitationView, MeView, TokenView, UserView
from aichor.schemas.engines import EngineView
from aichor.schemas.experiments import ExperimentPage, ExperimentView
from aichor.schemas.projects import ProjectView, VariableView
from aichor.schemas.storage import ObjectView, StorageView
from aichor.schemas.webhooks import WebhookView
from aichor.services import (
    accounts,
    engines,
    experiments,
    invitations,
    projects,
    storage,
    tokens,
    triggers,
    variables,
)
from aichor.services.access import Actor, get_project, visible_project_ids
from aichor.settings import Settings


@dataclass(frozen=True)
class Option:
    """An entry of a dropdown: a project (with its repository, for commit links) or engine."""

    id: str
    name: str
    repository_url: str = ""


@dataclass(frozen=True)
class Choice:
    """The project dropdown (projects the actor may use) and the engine dropdown (its engines)."""

    projects: list[Option]
    project: Option | None
    engines: list[Option]
    engine: Option | None


@dataclass(frozen=True)
class Filters:
    status: str | None = None
    user: str | None = None
    branch: str | None = None
    cursor: str | None = None


@dataclass(frozen=True)
class ExperimentsPage:
    choice: Choice
    page: ExperimentPage
    submitters: list[str]
    """E-mails of the people who submitted in the project (the user filter's options)."""


@dataclass(frozen=True)
class ExperimentDetail:
    view: ExperimentView
    manifest_text: str
    repository_url: str
    running_replicas: list[str]
    """Replicas a terminal can open into now."""
    source_files: list[tuple[str, int]]
    """An archive's files with their sizes (read when asked for)."""


def choose(session: Session, actor: Actor, *, project: str | None, engine: str | None) -> Choice:
    """The selected project (the first one when none is named) and engine (None: all).

    Two queries (every list page and every poll of it starts here), scoped like
    `projects.list_projects`: the projects the actor may use, then the chosen one's engines."""
    rows = session.execute(
        select(tables.Project.id, tables.Project.name, tables.Project.repository_url)
        .where(tables.Project.id.in_(visible_project_ids(session, actor)))
        .order_by(tables.Project.name)
    )
    visible = [Option(*row) for row in rows]
    selected = next((p for p in visible if project in (p.name, p.id)), None)
    if project and selected is None:
        raise NotFound(f"project {project} not found")
    selected = selected or (visible[0] if visible else None)
    choices = _engines_of(session, actor, selected.id) if selected else []
    chosen = next((e for e in choices if engine in (e.name, e.id)), None)
    if engine and chosen is None:
        raise NotFound(f"engine {engine} not found in this project")
    return Choice(projects=visible, project=selected, engines=choices, engine=chosen)


def _engines_of(session: Session, actor: Actor, project_id: str) -> list[Option]:
    rows = session.execute(
        select(tables.Engine.id, tables.Engine.name)
        .join(tables.ProjectEngine, tables.ProjectEngine.engine_id == tables.Engine.id)
        .where(
            tables.ProjectEngine.project_id == project_id,
            tables.Engine.organisation_id == actor.organisation_id,
        )
        .order_by(tables.Engine.name)
    )
    return [Option(*row) for row in rows]


def experiments_page(
    session: Session,
    actor: Actor,
    *,
    project: str | None,
    engine: str | None,
    filters: Filters,
    limit: int = 50,
    with_submitters: bool = True,
) -> ExperimentsPage:
    """One page of the selected project's experiments, newest first, filtered; the live
    fragment, which has no filter form, skips the submitters."""
    choice = choose(session, actor, project=project, engine=engine)
    if choice.project is None:
        return ExperimentsPage(choice, ExperimentPage(items=[], next_cursor=None), [])
    page = experiments.list_experiments(
        session,
        actor,
        project=choice.project.id,
        status=filters.status or None,
        user=filters.user or None,
        branch=filters.branch or None,
        engine=choice.engine.id if choice.engine else None,
        cursor=filters.cursor or None,
        limit=limit,
    )
    submitters = _submitters(session, choice.project.id) if with_submitters else []
    return ExperimentsPage(choice, page, submitters)


def _submitters(session: Session, project_id: str) -> list[str]:
    """The e-mails of the people who submitted in the project, sorted (decision 135).

    Finding them anew is a scan of every experiment of the project (no index has the user),
    which grew with the project on every list page. Experiments are only ever added newest
    last, so the ids seen are kept per project with the newest `created_at` they cover, and
    each page asks only for the max `created_at` (one probe of `ix_experiment_project_page`),
    the submitters of the experiments since then (a range of that index), and the e-mails of
    the ids (primary keys). A submitter whose experiments were all deleted stays an option.
    """
    newest = session.scalar(
        select(func.max(tables.Experiment.created_at)).where(
            tables.Experiment.project_id == project_id
        )
    )
    if newest is None:
        return []
    known = _submitter_ids.get(project_id)
    if known is None or known[0] != newest:
        since = select(tables.Experiment.user_id).where(tables.Experiment.project_id == project_id)
        if known is not None:  # only the experiments since the last look (>=: same stamp)
            since = since.where(tables.Experiment.created_at >= known[0])
        found = set(session.scalars(since.distinct()))
        ids = found | known[1] if known is not None else frozenset(found)
        if len(_submitter_ids) >= _SUBMITTER_PROJECTS:
            _submitter_ids.clear()
        known = (newest, frozenset(ids))
        _submitter_ids[project_id] = known
    query = select(tables.User.email).where(tables.User.id.in_(known[1]))
    return list(session.scalars(query.order_by(tables.User.email)))


_SUBMITTER_PROJECTS = 4096
_submitter_ids: dict[str, tuple[datetime, frozenset[str]]] = {}
"""Per project (this process): the newest `created_at` looked at and the submitters' ids."""


def experiment_detail(
    session: Session,
    actor: Actor,
    experiment_id: str,
    *,
    settings: Settings | None = None,
) -> ExperimentDetail:
    """The experiment (access checked by `get_experiment`) with its manifest and repository;
    with `settings`, also the files of its archive."""
    view = experiments.get_experiment(session, actor, experiment_id)
    row = session.execute(
        select(
            tables.Experiment.manifest_text,
            tables.Experiment.archive_key,
            tables.Project.repository_url,
        )
        .join(tables.Project, tables.Project.id == tables.Experiment.project_id)
        .where(tables.Experiment.id == view.id)
    ).one()
    running = [r.name for r in view.replicas if r.status == ReplicaStatus.RUNNING]
    files = _archive_files(settings.home / row.archive_key) if settings and row.archive_key else []
    return ExperimentDetail(view, row.manifest_text, row.repository_url, running, files)


def _archive_files(path: Path) -> list[tuple[str, int]]:
    try:
        with tarfile.open(path, "r:*") as tar:
            return sorted((m.name, m.size) for m in tar.getmembers() if m.isfile())
    except (tarfile.TarError, OSError):
        return []  # removed or unreadable: the page says there is nothing to list


@dataclass(frozen=True)
class Profile:
    me: MeView
    tokens: list[TokenView]


def profile(session: Session, actor: Actor) -> Profile:
    return Profile(me=accounts.me(session, actor), tokens=tokens.list_tokens(session, actor))


@dataclass(frozen=True)
class ProjectAdmin:
    project: ProjectView
    engines: list[EngineView]
    members: list[str]
    variables: list[VariableView]
    webhook: WebhookView | None = None


def project_admin(
    session: Session, actor: Actor, *, ref: str, webhook_for: Settings | None = None
) -> ProjectAdmin:
    """A project with its engines, members' e-mails and variables (sensitive ones masked);
    with `webhook_for` (the settings), also its webhook URLs and secret (Organization Admins)."""
    row = get_project(session, actor, ref)
    view = projects.project_view(session, row)
    emails = session.scalars(
        select(tables.User.email)
        .where(tables.User.id.in_(view.member_ids))
        .order_by(tables.User.email)
    )
    found = variables.list_variables(session, actor, project=row.id)
    webhook = (
        triggers.show_webhook(session, actor, project=row.id, settings=webhook_for)
        if webhook_for is not None
        else None
    )
    return ProjectAdmin(view, engines.list_engines(session, actor), list(emails), found, webhook)


@dataclass(frozen=True)
class MembersAdmin:
    members: list[UserView]
    invitations: list[InvitationView]
    projects: list[ProjectView]


def members_admin(session: Session, actor: Actor) -> MembersAdmin:
    """Members with roles, invitations and projects (Organization Admins)."""
    return MembersAdmin(
        members=accounts.list_members(session, actor),
        invitations=invitations.list_invitations(session, actor),
        projects=projects.list_projects(session, actor),
    )


@dataclass(frozen=True)
class ProjectsAdmin:
    projects: list[ProjectView]
    engines: list[EngineView]


def projects_admin(session: Session, actor: Actor) -> ProjectsAdmin:
    return ProjectsAdmin(
        projects=projects.list_projects(session, actor),
        engines=engines.list_engines(session, actor),
    )


@dataclass(frozen=True)
class DatasetsPage:
    choice: Choice
    storage: StorageView | None
    bucket: str
    objects: list[ObjectView]


def datasets_page(
    session: Session,
    actor: Actor,
    *,
    settings: Settings,
    project: str | None,
    bucket: str,
    prefix: str,
) -> DatasetsPage:
    """The selected project's buckets and the objects of one of them under `prefix`."""
    choice = choose(session, actor, project=project, engine=None)
    if choice.project is None:
        return DatasetsPage(choice, None, bucket, [])
    ref = choice.project.id
    view = storage.read_storage(session, actor, settings=settings, project=ref)
    found = storage.list_objects(
        session, actor, settings=settings, project=ref, bucket=bucket, prefix=prefix
    )
    return DatasetsPage(choice, view, bucket, found)
