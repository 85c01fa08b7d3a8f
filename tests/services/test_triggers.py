"""Push deliveries of every provider, on SQLite and PostgreSQL: each proves the secret its own
way, its payload shape is read, non-push events and ordinary commits start nothing, the same
commit never starts two experiments, and the run counts for the author when they are a member
of the project, else for the project's webhook identity."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from aichor.db import tables
from aichor.db.session import Engine, Session, session
from aichor.errors import InvalidInput, NotFound, Unauthorized
from aichor.services import triggers
from aichor.services.webhook_payloads import signature
from tests.pipeline.conftest import World, world  # noqa: F401

SHA = "a" * 40
Request = tuple[dict[str, str], bytes]


def _github(secret: str, commits: list[dict[str, str]], delivery: str = "d-1") -> Request:
    body = json.dumps({"ref": "refs/heads/main", "commits": [
        {"id": c["sha"], "message": c["message"], "author": {"name": "A", "email": c["email"]}}
        for c in commits
    ]}).encode()  # fmt: skip
    return {"x-github-event": "push", "x-github-delivery": delivery,
            "x-hub-signature-256": signature(secret, body)}, body  # fmt: skip


def _git(secret: str, commits: list[dict[str, str]], delivery: str = "d-1") -> Request:
    _, body = _github(secret, commits, delivery)
    return {"x-aichor-delivery": delivery, "x-aichor-signature-256": signature(secret, body)}, body


def _gitlab(secret: str, commits: list[dict[str, str]], delivery: str = "d-1") -> Request:
    _, body = _github(secret, commits, delivery)
    return {"x-gitlab-event": "Push Hook", "x-gitlab-event-uuid": delivery,
            "x-gitlab-token": secret}, body  # fmt: skip


def _bitbucket(secret: str, commits: list[dict[str, str]], delivery: str = "d-1") -> Request:
    body = json.dumps({"push": {"changes": [{"new": {"type": "branch", "name": "main"},
        "commits": [{"hash": c["sha"], "message": c["message"],
                     "author": {"raw": f"A B <{c['email']}>"}} for c in reversed(commits)]}]}}
    ).encode()  # fmt: skip
    return {"x-event-key": "repo:push", "x-request-uuid": delivery,
            "x-hub-signature": signature(secret, body)}, body  # fmt: skip


def _azure(secret: str, commits: list[dict[str, str]], delivery: str = "d-1") -> Request:
    body = json.dumps({"id": delivery, "eventType": "git.push", "resource": {
        "refUpdates": [{"name": "refs/heads/main"}],
        "commits": [{"commitId": c["sha"], "comment": c["message"],
                     "author": {"name": "A", "email": c["email"]}} for c in reversed(commits)],
    }}).encode()  # fmt: skip
    basic = base64.b64encode(f"aichor:{secret}".encode()).decode()
    return {"authorization": f"Basic {basic}"}, body


PROVIDERS: dict[str, Callable[..., Request]] = {
    "github": _github, "gitlab": _gitlab, "bitbucket": _bitbucket, "azure": _azure, "git": _git,
}  # fmt: skip


@pytest.fixture
def secret(world: World, db: Session) -> str:  # noqa: F811
    world.project.repository_url = "/srv/git/demo.git"
    db.commit()
    view = triggers.show_webhook(db, world.actor, project="demo", settings=world.settings)
    db.commit()
    return view.secret


def _push(db: Session, world: World, provider: str, request: Request) -> Any:  # noqa: F811
    headers, body = request
    return triggers.receive_push(
        db, settings=world.settings, provider=provider, project_id=world.project.id,
        headers=headers, body=body,
    )  # fmt: skip


def _experiments(db: Session) -> list[tables.Experiment]:
    db.expire_all()
    return list(db.scalars(select(tables.Experiment).order_by(tables.Experiment.created_at)))


@pytest.mark.parametrize("provider", PROVIDERS)
def test_each_provider_starts_one_experiment_per_matching_commit(
    provider: str, world: World, db: Session, secret: str,  # noqa: F811
) -> None:  # fmt: skip
    commits = [
        {"sha": SHA, "message": "aichor[r/m.yaml]: go\n\nbody", "email": "ada@example.com"},
        {"sha": "b" * 40, "message": "tidy up", "email": "ada@example.com"},
    ]
    result = _push(db, world, provider, PROVIDERS[provider](secret, commits))
    assert [c.status for c in result.commits] == ["created", "ignored"]
    assert result.commits[1].result.startswith("ignored: the message starts with neither")
    [experiment] = _experiments(db)
    assert (experiment.commit_sha, experiment.branch, experiment.message) == (SHA, "main", "go")
    assert experiment.manifest_path == "aichor_manifests/r/m.yaml"
    assert experiment.triggered_by == provider and experiment.author == "ada@example.com"
    assert experiment.user_id == world.actor.user_id  # the author is an organisation admin
    again = _push(db, world, provider, PROVIDERS[provider](secret, commits))
    assert again.duplicate_delivery and len(_experiments(db)) == 1


@pytest.mark.parametrize("provider", PROVIDERS)
def test_wrong_secret_is_unauthorized_and_creates_nothing(
    provider: str, world: World, db: Session, secret: str,  # noqa: F811
) -> None:  # fmt: skip
    commits = [{"sha": SHA, "message": "aichor[m.yaml]: go", "email": "x@example.com"}]
    with pytest.raises(Unauthorized):
        _push(db, world, provider, PROVIDERS[provider]("guessed", commits))
    headers, body = PROVIDERS[provider](secret, commits)
    tampered = body.replace(b"go", b"no")
    if provider not in ("gitlab", "azure"):  # a shared token does not sign the body
        with pytest.raises(Unauthorized):
            _push(db, world, provider, (headers, tampered))
    db.rollback()
    assert _experiments(db) == []
    assert db.scalars(select(tables.WebhookDelivery)).all() == []


@pytest.mark.parametrize(
    ("provider", "headers", "payload"),
    [
        ("github", {"x-github-event": "ping"}, {"zen": "hi"}),
        ("gitlab", {"x-gitlab-event": "Merge Request Hook"}, {}),
        ("bitbucket", {"x-event-key": "repo:fork"}, {}),
        ("azure", {}, {"eventType": "build.complete", "id": "e"}),
    ],
)
def test_other_events_are_answered_and_ignored(
    provider: str, headers: dict[str, str], payload: dict[str, Any], world: World,  # noqa: F811
    db: Session, secret: str,
) -> None:  # fmt: skip
    body = json.dumps(payload).encode()
    proof = {
        "github": {"x-hub-signature-256": signature(secret, body)},
        "gitlab": {"x-gitlab-token": secret},
        "bitbucket": {"x-hub-signature": signature(secret, body)},
        "azure": {"authorization": "Basic " + base64.b64encode(f"u:{secret}".encode()).decode()},
    }[provider]
    result = _push(db, world, provider, ({**headers, **proof}, body))
    assert result.note.startswith("ignored:") and "not a push" in result.note
    assert _experiments(db) == []


def test_same_commit_from_two_providers_starts_one_experiment(
    world: World, db: Session, secret: str,  # noqa: F811
) -> None:  # fmt: skip
    commits = [{"sha": SHA, "message": "aichor[m.yaml]: go", "email": "x@example.com"}]
    first = _push(db, world, "github", _github(secret, commits, "one"))
    second = _push(db, world, "git", _git(secret, commits, "two"))
    assert second.commits[0].status == "duplicate"
    assert second.commits[0].experiment_id == first.commits[0].experiment_id
    other_manifest = [{"sha": SHA, "message": "aichor[other.yaml]: go", "email": "x@e.com"}]
    third = _push(db, world, "git", _git(secret, other_manifest, "three"))
    assert third.commits[0].status == "created" and len(_experiments(db)) == 2


def test_strangers_commits_count_for_the_projects_webhook_identity(
    world: World, db: Session, secret: str,  # noqa: F811
) -> None:  # fmt: skip
    for delivery, sha in (("one", SHA), ("two", "c" * 40)):
        commits = [{"sha": sha, "message": "aichor[m.yaml]: go", "email": "mallory@evil.test"}]
        result = _push(db, world, "github", _github(secret, commits, delivery))
        assert (
            result.commits[0].submitted_as == f"webhook+{world.project.id}@webhooks.aichor.invalid"
        )
    identities = db.scalars(select(tables.User).where(tables.User.email.like("webhook+%"))).all()
    assert len(identities) == 1 and identities[0].is_active is False
    assert identities[0].password_hash is None
    assert db.scalars(select(tables.Membership).where(
        tables.Membership.user_id == identities[0].id)).all() == []  # fmt: skip
    assert {e.user_id for e in _experiments(db)} == {identities[0].id}
    assert {e.author for e in _experiments(db)} == {"mallory@evil.test"}


def test_unusable_path_is_reported_and_starts_nothing(
    world: World, db: Session, secret: str,  # noqa: F811
) -> None:  # fmt: skip
    commits = [{"sha": SHA, "message": "aichor[../../etc/passwd]: go", "email": "x@e.com"}]
    result = _push(db, world, "github", _github(secret, commits))
    assert result.commits[0].status == "ignored" and "leaves aichor_manifests/" in (
        result.commits[0].result
    )
    assert _experiments(db) == []


def test_bad_requests_are_named(world: World, db: Session, secret: str) -> None:  # noqa: F811
    with pytest.raises(InvalidInput, match="unknown webhook provider 'svn'"):
        _push(db, world, "svn", ({}, b"{}"))
    with pytest.raises(NotFound):
        triggers.receive_push(db, settings=world.settings, provider="github",
                              project_id="nope", headers={}, body=b"")  # fmt: skip
    body = b"not json"
    with pytest.raises(InvalidInput, match="not JSON"):
        _push(db, world, "github", ({"x-hub-signature-256": signature(secret, body)}, body))


def test_a_project_without_a_secret_refuses_every_delivery(
    world: World, db: Session,  # noqa: F811
) -> None:  # fmt: skip
    with pytest.raises(Unauthorized, match="no webhook secret yet"):
        _push(db, world, "github", _github("", [{"sha": SHA, "message": "x", "email": "e"}]))


def test_rotation_refuses_the_old_secret(world: World, db: Session, secret: str) -> None:  # noqa: F811
    rotated = triggers.rotate_webhook_secret(
        db, world.actor, project="demo", settings=world.settings
    )
    db.commit()
    assert rotated.secret != secret
    commits = [{"sha": SHA, "message": "aichor[m.yaml]: go", "email": "x@e.com"}]
    with pytest.raises(Unauthorized):
        _push(db, world, "github", _github(secret, commits))
    assert (
        _push(db, world, "github", _github(rotated.secret, commits)).commits[0].status == "created"
    )
    stored = db.get(tables.Project, world.project.id)
    assert stored is not None and rotated.secret not in stored.webhook_secret


def test_simultaneous_deliveries_of_one_push_start_one_experiment(
    world: World, db: Session, db_engine: Engine, secret: str,  # noqa: F811
) -> None:  # fmt: skip
    """Four deliveries of the same commit (different ids, as from a hook and a provider) race;
    the trigger key's unique index lets exactly one experiment through."""
    commits = [{"sha": SHA, "message": "aichor[m.yaml]: go", "email": "x@e.com"}]
    start = threading.Barrier(4)
    answers: list[str] = []

    def deliver(index: int) -> None:
        headers, body = _git(secret, commits, f"race-{index}")
        start.wait()
        with session(db_engine) as own:
            result = triggers.receive_push(
                own, settings=world.settings, provider="git", project_id=world.project.id,
                headers=headers, body=body,
            )  # fmt: skip
        answers.append(result.commits[0].status)

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(answers) == ["created", "duplicate", "duplicate", "duplicate"]
    assert len(_experiments(db)) == 1
