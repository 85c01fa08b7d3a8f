"""Git triggers: a provider's push becomes one experiment per matching commit
(docs/decisions/090-git-triggers.md, 091-webhook-providers.md).

`receive_push` is called by `api.webhooks` with no logged-in user: the project comes from the
URL and the request proves itself with the project's webhook secret (`webhook_payloads`).
Each commit whose message matches `aichor[<manifest>]:` or `exp:` goes through
`experiments.submit_commit`; the experiment's trigger key (commit + manifest, unique per
project) and the remembered delivery ids make redeliveries create nothing. The run counts for
the organisation member whose email is the commit author's (when they may use the project),
else for the project's webhook identity. `show_webhook` / `rotate_webhook_secret` serve
Organization Admins (api.projects webhook routes).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from aichor import crypto
from aichor.db import tables
from aichor.errors import AichorError, InvalidInput, NotFound, Unauthorized
from aichor.manifest.trigger import parse_commit_message
from aichor.schemas.webhooks import CommitOutcome, PushResult, WebhookView
from aichor.services import audit, experiments
from aichor.services.access import (
    USER,
    Actor,
    actor_for,
    can_use_project,
    get_project,
    require_role,
)
from aichor.services.webhook_payloads import (
    PROVIDERS,
    PushedCommit,
    authenticate,
    check_provider,
    parse,
)
from aichor.settings import Settings

MAX_COMMITS = 200
"""Commits looked at in one delivery; the rest are reported as ignored."""
_SHA = re.compile(r"^[0-9a-fA-F]{7,64}$")
IDENTITY_DOMAIN = "webhooks.aichor.invalid"


def show_webhook(
    session: Session, actor: Actor, *, project: str, settings: Settings
) -> WebhookView:
    """The URLs and the secret (made the first time it is asked for); Organization Admins."""
    row = get_project(session, actor, project)
    require_role(actor)
    if not row.webhook_secret:
        _new_secret(row, settings)
    audit.record(session, actor, "project.webhook.show", target=row.id)
    return _view(row, settings)


def rotate_webhook_secret(
    session: Session, actor: Actor, *, project: str, settings: Settings
) -> WebhookView:
    """A new secret; deliveries signed with the old one are refused from now on."""
    row = get_project(session, actor, project)
    require_role(actor)
    _new_secret(row, settings)
    audit.record(session, actor, "project.webhook.rotate", target=row.id)
    return _view(row, settings)


def _new_secret(row: tables.Project, settings: Settings) -> None:
    row.webhook_secret = crypto.encrypt(
        settings.secret(), secrets.token_urlsafe(32), crypto.WEBHOOKS
    )


def _view(row: tables.Project, settings: Settings) -> WebhookView:
    base = settings.public_url.rstrip("/")
    return WebhookView(
        project_id=row.id,
        project=row.name,
        secret=crypto.decrypt(settings.secret(), row.webhook_secret, crypto.WEBHOOKS),
        urls={provider: f"{base}/api/webhooks/{provider}/{row.id}" for provider in PROVIDERS},
    )


def receive_push(
    session: Session,
    *,
    settings: Settings,
    provider: str,
    project_id: str,
    headers: Mapping[str, str],
    body: bytes,
) -> PushResult:
    """Authenticate the delivery, then start one experiment per matching commit."""
    check_provider(provider)
    project = session.get(tables.Project, project_id)
    if project is None:
        raise NotFound(f"project {project_id} not found")
    authenticate(provider, headers, body, _secret_of(project, settings))
    delivery = parse(provider, headers, body)
    delivery_id = delivery.delivery_id[:200]
    if delivery_id:
        seen = session.scalars(
            select(tables.WebhookDelivery).where(
                tables.WebhookDelivery.project_id == project.id,
                tables.WebhookDelivery.provider == provider,
                tables.WebhookDelivery.delivery_id == delivery_id,
            )
        ).one_or_none()
        if seen is not None:
            return PushResult.model_validate({**seen.result, "duplicate_delivery": True})
    result = PushResult(provider=provider, event=delivery.event, delivery_id=delivery_id)
    if not delivery.is_push:
        result.note = f"ignored: {delivery.event} is not a push event"
    else:
        for index, commit in enumerate(delivery.commits):
            if index >= MAX_COMMITS:
                result.commits.append(_ignored(commit, f"more than {MAX_COMMITS} commits pushed"))
            else:
                result.commits.append(_trigger(session, provider, project_id, commit))
    _remember(session, project_id, provider, delivery_id, result)
    return result


def _secret_of(project: tables.Project, settings: Settings) -> str:
    if not project.webhook_secret:
        raise Unauthorized(
            "this project has no webhook secret yet: an Organization Admin makes it with "
            "`aichor projects webhook <project>`"
        )
    try:
        return crypto.decrypt(settings.secret(), project.webhook_secret, crypto.WEBHOOKS)
    except crypto.InvalidToken:
        raise Unauthorized(
            "this project's webhook secret was made with another server key: rotate it with "
            "`aichor projects webhook <project> --rotate`"
        ) from None


def _trigger(
    session: Session, provider: str, project_id: str, commit: PushedCommit
) -> CommitOutcome:
    """One commit: ignored, already triggered, or a new experiment."""
    try:
        trigger = parse_commit_message(commit.message)
    except InvalidInput as error:
        return _ignored(commit, error.message)
    if trigger is None:
        return _ignored(commit, "the message starts with neither aichor[<manifest>]: nor exp:")
    if not _SHA.match(commit.sha):
        return _ignored(commit, f"{commit.sha!r} is not a commit id")
    key = hashlib.sha256(f"{commit.sha.lower()}\0{trigger.manifest_path}".encode()).hexdigest()
    outcome = CommitOutcome(
        sha=commit.sha, branch=commit.branch, status="created", result="",
        manifest_path=trigger.manifest_path,
    )  # fmt: skip
    if (earlier := _triggered(session, project_id, key)) is not None:
        return _duplicate(outcome, earlier)
    actor = _submitter(session, project_id, commit.author_email)
    pushed = experiments.Pushed(
        author=commit.author_email or actor.user.email, provider=provider, trigger_key=key
    )
    try:
        view = experiments.submit_commit(
            session, actor, project=project_id, commit_sha=commit.sha, branch=commit.branch,
            manifest_path=trigger.manifest_path, message=trigger.message, pushed=pushed,
        )  # fmt: skip
    except IntegrityError:  # the same push arriving at this moment through another delivery
        session.rollback()
        earlier = _triggered(session, project_id, key)
        return _duplicate(outcome, earlier or "")
    except AichorError as error:
        session.rollback()
        return outcome.model_copy(update={"status": "failed", "result": f"failed: {error}"})
    return outcome.model_copy(
        update={"experiment_id": view.id, "result": f"created {view.id}",
                "submitted_as": actor.user.email}
    )  # fmt: skip


def _ignored(commit: PushedCommit, why: str) -> CommitOutcome:
    return CommitOutcome(
        sha=commit.sha, branch=commit.branch, status="ignored", result=f"ignored: {why}"
    )


def _duplicate(outcome: CommitOutcome, experiment_id: str) -> CommitOutcome:
    return outcome.model_copy(
        update={
            "status": "duplicate",
            "experiment_id": experiment_id or None,
            "result": f"duplicate: already started as {experiment_id}",
        }
    )


def _triggered(session: Session, project_id: str, key: str) -> str | None:
    return session.scalars(
        select(tables.Experiment.id).where(
            tables.Experiment.project_id == project_id, tables.Experiment.trigger_key == key
        )
    ).first()


def _submitter(session: Session, project_id: str, email: str) -> Actor:
    """The member whose email is the author's, when they may use the project; else the
    project's webhook identity."""
    project = session.get(tables.Project, project_id)
    assert project is not None  # noqa: S101 - loaded by receive_push
    user = session.scalars(
        select(tables.User).where(tables.User.email == email.strip().lower())
    ).first() if email else None  # fmt: skip
    if user is not None and user.is_active:
        try:
            actor = actor_for(session, user, project.organisation_id)
        except NotFound:
            actor = None
        if actor is not None and can_use_project(session, actor, project.id):
            return actor
    return _identity(session, project)


def _identity(session: Session, project: tables.Project) -> Actor:
    """`webhook+<project id>@webhooks.aichor.invalid`: no password, inactive (it never logs in),
    a member of this project only; made on first use."""
    email = f"webhook+{project.id}@{IDENTITY_DOMAIN}"
    user = session.scalars(select(tables.User).where(tables.User.email == email)).first()
    if user is None:
        user = tables.User(email=email, name=f"webhook ({project.name})", is_active=False)
        try:
            with session.begin_nested():
                session.add(user)
                session.flush()
                session.add(tables.ProjectMember(project_id=project.id, user_id=user.id))
                session.flush()
        except IntegrityError:  # made by a concurrent delivery
            user = session.scalars(select(tables.User).where(tables.User.email == email)).one()
    organisation = session.get(tables.Organisation, project.organisation_id)
    assert organisation is not None  # noqa: S101 - foreign key
    return Actor(user=user, organisation=organisation, roles=frozenset({USER}))


def _remember(
    session: Session, project_id: str, provider: str, delivery_id: str, result: PushResult
) -> None:
    """Keep the answer for redeliveries of the same id (a concurrent twin keeps its own)."""
    if not delivery_id:
        session.commit()
        return
    project = session.get(tables.Project, project_id)
    assert project is not None  # noqa: S101 - loaded by receive_push
    row = tables.WebhookDelivery(
        organisation_id=project.organisation_id, project_id=project_id, provider=provider,
        delivery_id=delivery_id, result=result.model_dump(mode="json"),
    )  # fmt: skip
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        pass
    session.commit()
