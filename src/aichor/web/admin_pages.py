"""Admin pages: members, invitations and roles; projects (repository, engines, variables);
engines (Infrastructure Admins); usage and cost with a chart and CSV export (FinOps).

The services check the roles; a member without them gets the 403 page.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from aichor.errors import InvalidInput
from aichor.schemas.engines import CreateEngine
from aichor.schemas.projects import CreateProject, CreateVariable, UpdateProject
from aichor.schemas.usage import GroupBy
from aichor.services import (
    accounts,
    dashboard,
    engines,
    invitations,
    projects,
    usage,
    variables,
)
from aichor.web.deps import CheckedPage, Page
from aichor.web.templating import render

router = APIRouter(prefix="/admin", include_in_schema=False)
Texts = Annotated[list[str], Form()]


@router.get("/members")
def members(page: Page) -> Response:
    return render(page, "admin_members.html", admin=dashboard.members_admin(page.db, page.actor))


@router.post("/invitations")
def invite(
    page: CheckedPage,
    email: Annotated[str, Form()] = "",
    roles: Texts = [],  # noqa: B006 - FastAPI copies defaults
    project_ids: Texts = [],  # noqa: B006
) -> Response:
    created = invitations.create_invitation(
        page.db,
        page.actor,
        email=email,
        roles=roles or ["User"],
        project_ids=project_ids,
        settings=page.settings,
    )
    admin = dashboard.members_admin(page.db, page.actor)
    return render(page, "admin_members.html", admin=admin, created=created)


@router.post("/members/{user_id}/roles")
def set_roles(user_id: str, page: CheckedPage, roles: Texts = []) -> Response:  # noqa: B006
    accounts.set_roles(page.db, page.actor, user_id=user_id, roles=roles)
    return RedirectResponse("/admin/members", status_code=303)


@router.get("/projects")
def project_list(page: Page) -> Response:
    admin = dashboard.projects_admin(page.db, page.actor)
    return render(page, "admin_projects.html", admin=admin)


@router.post("/projects")
def create_project(
    page: CheckedPage,
    name: Annotated[str, Form()] = "",
    repository_url: Annotated[str, Form()] = "",
    engine_ids: Texts = [],  # noqa: B006
) -> Response:
    spec = CreateProject(name=name, repository_url=repository_url, engine_ids=engine_ids)
    created = projects.create_project(page.db, page.actor, spec=spec)
    return RedirectResponse(f"/admin/projects/{created.name}", status_code=303)


@router.get("/projects/{ref}")
def project_settings(ref: str, page: Page) -> Response:
    admin = dashboard.project_admin(page.db, page.actor, ref=ref)
    return render(page, "admin_project.html", admin=admin)


@router.get("/projects/{ref}/webhook")
def project_webhook(ref: str, page: Page) -> Response:
    """The project page with its webhook URLs and secret shown (asked for, and audited)."""
    admin = dashboard.project_admin(page.db, page.actor, ref=ref, webhook_for=page.settings)
    return render(page, "admin_project.html", admin=admin)


@router.post("/projects/{ref}")
def update_project(
    ref: str,
    page: CheckedPage,
    repository_url: Annotated[str, Form()] = "",
    engine_ids: Texts = [],  # noqa: B006
    default_engine_id: Annotated[str, Form()] = "",
) -> Response:
    change = UpdateProject(
        repository_url=repository_url,
        engine_ids=engine_ids,
        default_engine_id=default_engine_id or None,
    )
    updated = projects.update_project(page.db, page.actor, ref=ref, change=change)
    return RedirectResponse(f"/admin/projects/{updated.name}", status_code=303)


@router.post("/projects/{ref}/variables")
def set_variable(
    ref: str,
    page: CheckedPage,
    name: Annotated[str, Form()] = "",
    value: Annotated[str, Form()] = "",
    kind: Annotated[Literal["runtime", "build"], Form()] = "runtime",
    sensitive: Annotated[bool, Form()] = False,
) -> Response:
    spec = CreateVariable(name=name, value=value, kind=kind, sensitive=sensitive)
    secret = page.settings.secret()
    variables.set_variable(page.db, page.actor, project=ref, spec=spec, secret=secret)
    return RedirectResponse(f"/admin/projects/{ref}", status_code=303)


@router.post("/projects/{ref}/variables/{variable_id}/delete")
def delete_variable(ref: str, variable_id: str, page: CheckedPage) -> Response:
    variables.delete_variable(page.db, page.actor, project=ref, variable_id=variable_id)
    return RedirectResponse(f"/admin/projects/{ref}", status_code=303)


@router.get("/engines")
def engine_list(page: Page) -> Response:
    return render(page, "admin_engines.html", engines=engines.list_engines(page.db, page.actor))


@router.post("/engines")
def create_engine(
    page: CheckedPage,
    name: Annotated[str, Form()] = "",
    cpus: Annotated[float, Form()] = 0,
    memory_gib: Annotated[float, Form()] = 0,
) -> Response:
    spec = CreateEngine(name=name, cpus=cpus, memory_gib=memory_gib)
    engines.create_engine(page.db, page.actor, spec=spec)
    return RedirectResponse("/admin/engines", status_code=303)


def _period(start: str, end: str) -> tuple[datetime, datetime]:
    """Dates from the form (YYYY-MM-DD, end inclusive); the last 30 days by default."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    last = _day(end, "end") if end else today
    first = _day(start, "start") if start else last - timedelta(30)
    return first, last + timedelta(days=1)


def _day(text: str, field: str) -> datetime:
    try:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    except ValueError:
        raise InvalidInput(f"{field}: {text!r} is not a date (YYYY-MM-DD)", field=field) from None


@router.get("/usage")
def usage_page(
    page: Page, start: str = "", end: str = "", group_by: GroupBy = "project"
) -> Response:
    first, last = _period(start, end)
    report = usage.usage_report(page.db, page.actor, start=first, end=last, group_by=group_by)
    return render(page, "admin_usage.html", report=report, last_day=last - timedelta(days=1))


@router.get("/usage.csv")
def usage_csv(
    page: Page, start: str = "", end: str = "", group_by: GroupBy = "project"
) -> Response:
    first, last = _period(start, end)
    report = usage.usage_report(page.db, page.actor, start=first, end=last, group_by=group_by)
    return Response(
        report.to_csv(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="usage-{group_by}.csv"'},
    )
