"""Jinja2 templates and the small presentation helpers they use (no logic beyond display).

The step widgets (decision 130): the five steps after Waiting, each shown as done, failed,
paused, in progress or not started.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import Response

from aichor.lifecycle import ExperimentStatus, Step, StepStatus
from aichor.schemas.experiments import StepView
from aichor.web.deps import PageContext

TEMPLATES = Path(__file__).parent / "templates"
WIDGET_STEPS = (Step.CLONING, Step.BUILDING, Step.SUBMITTING, Step.RUNNING, Step.COMPLETED)
STATUS_LABELS = {ExperimentStatus.CREATED: "Waiting"}
"""A created experiment waits in the queue: the list says so in the words of the steps."""


@dataclass(frozen=True)
class Widget:
    step: str
    state: str
    """done | failed | paused | progress | todo"""
    label: str


_STATES = {
    StepStatus.SUCCEEDED.value: "done",
    StepStatus.FAILED.value: "failed",
    StepStatus.CANCELLED.value: "paused",
    StepStatus.RUNNING.value: "progress",
}
_STATE_WORDS = {
    "done": "succeeded",
    "failed": "failed",
    "paused": "paused",
    "progress": "in progress",
    "todo": "not started",
}


def step_widgets(steps: Sequence[StepView | _Status], current_step: str) -> list[Widget]:
    by_name = {s.step: s.status for s in steps}
    waiting = current_step == Step.WAITING
    widgets = []
    for index, step in enumerate(WIDGET_STEPS):
        state = _STATES.get(by_name.get(step, ""), "todo")
        if waiting and index == 0 and state == "todo":
            state = "paused"  # queued: the first step waits for capacity
        widgets.append(Widget(step, state, f"{step}: {_STATE_WORDS[state]}"))
    return widgets


def widgets(steps: Sequence[StepView], current_step: str) -> Markup:
    """The widgets as HTML: built in Python and memoised by the steps' statuses (a handful of
    combinations), since a Jinja macro per row was a third of the list page's rendering."""
    return _widgets_html(tuple((s.step, s.status) for s in steps), current_step)


@functools.lru_cache(maxsize=512)
def _widgets_html(statuses: tuple[tuple[str, str], ...], current_step: str) -> Markup:
    steps = [_Status(step, status) for step, status in statuses]
    items = "".join(
        f'<li class="widget {w.state}" data-step="{escape(w.step)}" data-state="{w.state}" '
        f'title="{escape(w.label)}"><span class="sr-only">{escape(w.label)}</span></li>'
        for w in step_widgets(steps, current_step)
    )
    return Markup(f'<ol class="widgets" aria-label="Steps">{items}</ol>')  # noqa: S704 (escaped)


@dataclass(frozen=True)
class _Status:
    step: str
    status: str


def status_label(status: str) -> str:
    return STATUS_LABELS.get(ExperimentStatus(status), status)


def initials(email: str) -> str:
    local = email.split("@", 1)[0]
    parts = [p for p in re.split(r"[._+-]+", local) if p]
    letters = "".join(p[0] for p in parts[:2]) if len(parts) > 1 else local[:2]
    return letters.upper()


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    if moment is None:
        return ""
    seconds = int(((now or datetime.now(UTC)) - moment).total_seconds())
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return "just now" if seconds < 5 else f"{seconds} s ago"


def commit_url(repository_url: str, sha: str) -> str | None:
    """A link to the commit at GitHub/GitLab-style hosts; None for local or unknown ones."""
    base = _commit_base(repository_url or "")
    return f"{base}{sha}" if base and sha else None


@functools.lru_cache(maxsize=256)
def _commit_base(repository_url: str) -> str | None:
    """Parsed once per repository (every row of a page has the same one)."""
    match = re.match(r"^(https://[^/]+/.+?)(\.git)?/?$", repository_url)
    if not match:
        return None
    base = match.group(1)
    return f"{base}/-/commit/" if "gitlab" in base else f"{base}/commit/"


def filesize(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024:
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def number(value: float) -> str:
    return f"{value:g}"


def utc(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def query_with(request: Request, **changes: str | None) -> str:
    """This page's URL with some query parameters replaced (None removes one)."""
    params = {k: v for k, v in request.query_params.items() if k not in changes}
    params.update({k: v for k, v in changes.items() if v is not None})
    return f"{request.url.path}?{urlencode(params)}"


templates = Jinja2Templates(directory=str(TEMPLATES))
templates.env.filters.update(
    initials=initials, ago=ago, number=number, filesize=filesize, utc=utc, status_label=status_label
)
templates.env.globals.update(widgets=widgets, commit_url=commit_url, query_with=query_with)


def render(
    page: PageContext | None,
    template: str,
    status_code: int = 200,
    *,
    request: Request | None = None,
    **context: Any,
) -> Response:
    """The template with the page context (`page`: the user, the CSRF token) for the layout;
    pages without a signed-in user pass their `request` instead."""
    found = request or (page.request if page else None)
    if found is None:
        raise ValueError("render needs a page or a request")
    return templates.TemplateResponse(
        found, template, {"page": page, **context}, status_code=status_code
    )
