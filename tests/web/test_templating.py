"""What the list shows of an experiment: the five step widgets, initials, commit links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aichor.lifecycle import STEP_ORDER, Step, StepStatus
from aichor.schemas.experiments import StepView
from aichor.web.templating import (
    ago,
    commit_url,
    initials,
    status_label,
    step_widgets,
    widgets,
)


def _steps(**statuses: StepStatus) -> list[StepView]:
    return [
        StepView(
            step=step,
            status=statuses.get(step.value, StepStatus.INITIALIZE),
            message="",
            started_at=None,
            finished_at=None,
        )
        for step in STEP_ORDER
    ]


def test_widgets_follow_the_steps() -> None:
    queued = step_widgets(_steps(Waiting=StepStatus.RUNNING), Step.WAITING)
    assert [w.state for w in queued] == ["paused", "todo", "todo", "todo", "todo"]
    building = step_widgets(
        _steps(Waiting=StepStatus.SUCCEEDED, Cloning=StepStatus.SUCCEEDED, Building="Running"),
        Step.BUILDING,
    )
    assert [w.state for w in building] == ["done", "progress", "todo", "todo", "todo"]
    assert building[1].label == "Building: in progress"
    failed = step_widgets(
        _steps(Cloning="Succeeded", Building="Succeeded", Submitting="Succeeded", Running="Failed"),
        Step.COMPLETED,
    )
    assert [w.state for w in failed][3] == "failed"
    cancelled = step_widgets(_steps(Cloning="Succeeded", Building="Cancelled"), Step.COMPLETED)
    assert [w.state for w in cancelled][:2] == ["done", "paused"]
    html = str(widgets(_steps(Cloning="Succeeded", Building="Cancelled"), Step.COMPLETED))
    assert html.count('<li class="widget ') == 5
    assert 'data-step="Building" data-state="paused" title="Building: paused"' in html
    assert html == str(widgets(_steps(Cloning="Succeeded", Building="Cancelled"), "Completed"))


def test_small_presentation_helpers() -> None:
    assert initials("ada.lovelace@example.com") == "AL"
    assert initials("bob@example.com") == "BO"
    assert status_label("Created") == "Waiting" and status_label("Failed") == "Failed"
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert ago(now - timedelta(minutes=5), now) == "5 min ago"
    assert ago(now - timedelta(days=2), now) == "2 d ago"
    assert commit_url("https://github.com/acme/vision.git", "abc") == (
        "https://github.com/acme/vision/commit/abc"
    )
    assert commit_url("https://gitlab.com/acme/vision", "abc") == (
        "https://gitlab.com/acme/vision/-/commit/abc"
    )
    assert commit_url("file:///tmp/repo", "abc") is None
