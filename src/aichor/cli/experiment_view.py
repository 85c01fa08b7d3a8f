"""How experiments look in the terminal: tables, the live step view of `--watch`, log following.

Called by experiments_commands with a connected client. Rich is imported inside the functions
so that `import aichor.cli` (and thus `aichor run`'s start-up) does not pay for it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import typer

from aichor.errors import AichorError, ExperimentFailed

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from aichor.client import Client
    from aichor.client.views import ExperimentSummary, ExperimentView, LogPage, ReplicaView

POLL_SECONDS = 0.5
_STATUS_STYLE = {
    "Succeeded": "green",
    "Failed": "red",
    "Cancelled": "yellow",
    "Running": "cyan",
    "Processing": "cyan",
}
_TERMINAL = frozenset({"Succeeded", "Failed", "Cancelled"})


def _when(value: Any) -> str:
    return value.strftime("%m-%d %H:%M:%S") if value is not None else "-"


def _columns(table: Table, names: tuple[str, ...], wrapped: str) -> None:
    """Every column on one line except `wrapped`, which takes what width is left."""
    for name in names:
        if name == wrapped:
            table.add_column(name, overflow="fold", ratio=1)
        else:
            table.add_column(name, no_wrap=True)


def _styled(status: str) -> str:
    style = _STATUS_STYLE.get(status)
    return f"[{style}]{status}[/{style}]" if style else status


def experiments_table(items: list[ExperimentSummary]) -> Table:
    from rich.table import Table  # imported here: see module docstring

    table = Table(box=None, header_style="bold")
    _columns(table, ("ID", "STATUS", "STEP", "SOURCE", "MESSAGE", "CREATED"), "MESSAGE")
    for exp in items:
        source = (exp.commit_sha or "")[:10] if exp.source_kind == "commit" else "archive"
        table.add_row(
            exp.id,
            _styled(exp.status),
            exp.current_step or "-",
            source,
            (exp.message or "")[:60],
            _when(exp.created_at),
        )
    return table


def steps_table(exp: ExperimentView) -> Table:
    from rich.table import Table

    table = Table(
        title=f"{exp.short_name or exp.id}: {_styled(exp.status)}",
        box=None,
        header_style="bold",
        title_justify="left",
    )
    _columns(table, ("STEP", "STATUS", "STARTED", "FINISHED", "MESSAGE"), "MESSAGE")
    for step in exp.steps:
        table.add_row(
            step.step,
            _styled(step.status),
            _when(step.started_at),
            _when(step.finished_at),
            step.message or "",
        )
    return table


def replicas_table(replicas: list[ReplicaView]) -> Table:
    """State, exit code, restarts and reason of each replica; the one that failed first is
    marked `(failed first)`."""
    from rich.table import Table

    table = Table(box=None, header_style="bold")
    _columns(table, ("REPLICA", "TYPE", "STATUS", "EXIT", "RESTARTS", "REASON"), "REASON")
    for rep in replicas:
        exit_code = "-" if rep.exit_code is None else str(rep.exit_code)
        table.add_row(
            rep.name,
            rep.replica_type or "-",
            _styled(rep.status),
            exit_code,
            str(rep.restarts),
            f"{rep.reason} [red](failed first)[/red]" if rep.failed_first else rep.reason or "",
        )
    return table


def console(*, stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def describe(exp: ExperimentView) -> None:
    """`aichor experiments status`: the experiment, its steps and its replicas."""
    out = console()
    out.print(
        f"[bold]{exp.id}[/bold]  {_styled(exp.status)}  project {exp.project or '-'}  "
        f"engine {exp.engine or '-'}  operator {exp.operator or '-'}"
    )
    source = f"commit {exp.commit_sha} ({exp.branch or '-'})" if exp.commit_sha else "archive"
    out.print(f"source {source}  manifest {exp.manifest_path or '-'}  by {exp.user_email or '-'}")
    if exp.message:
        out.print(f"message {exp.message}")
    if exp.failure_reason:
        out.print(f"[red]failure[/red] {exp.failure_reason}")
    if exp.failed_replica:
        out.print(f"[red]failed first[/red] {exp.failed_replica}")
    for label, path in (
        ("tensorboard", exp.tensorboard_url),
        ("ray dashboard", exp.ray_dashboard_url),
    ):
        if path:
            out.print(f"{label} {path}")
    out.print(steps_table(exp))
    if exp.replicas:
        out.print(replicas_table(exp.replicas))


def watch(
    client: Client, experiment_id: str, *, sleep: Callable[[float], None] = time.sleep
) -> None:
    """Follow the steps live on stderr (stdout stays the JSON of submit) until the end."""
    err = console(stderr=True)
    if err.is_terminal:
        from rich.live import Live

        exp = client.get_experiment(experiment_id)
        with Live(steps_table(exp), console=err, refresh_per_second=4) as live:
            while exp.status not in _TERMINAL:
                sleep(POLL_SECONDS)
                exp = client.get_experiment(experiment_id)
                live.update(steps_table(exp))
    else:
        exp = _watch_plain(client, experiment_id, sleep)
    raise_for_outcome(exp)


def _watch_plain(
    client: Client, experiment_id: str, sleep: Callable[[float], None]
) -> ExperimentView:
    seen: dict[str, str] = {}
    while True:
        exp = client.get_experiment(experiment_id)
        for step in exp.steps:
            if step.status != "Initialize" and seen.get(step.step) != step.status:
                seen[step.step] = step.status
                note = f": {step.message}" if step.message else ""
                sys.stderr.write(f"{step.step} {step.status}{note}\n")
        if exp.status in _TERMINAL:
            return exp
        sleep(POLL_SECONDS)


def raise_for_outcome(exp: ExperimentView) -> None:
    """Succeeded → return; Failed/Cancelled → one line and a non-zero exit."""
    if exp.status == "Succeeded":
        typer.echo(f"experiment {exp.id} Succeeded", err=True)
        return
    if exp.status == "Cancelled":
        raise AichorError(f"experiment {exp.id} was cancelled")
    reason = exp.failure_reason or f"failed at {exp.current_step or 'an unknown step'}"
    raise ExperimentFailed(f"experiment {exp.id} Failed: {reason}", exit_code=exp.exit_code or 1)


def print_logs(client: Client, experiment_id: str, *, source: str | None, follow: bool) -> None:
    """Print every log line from the start; with `follow`, stream new ones (SSE) to the end."""
    if follow:
        for page in client.follow_logs(experiment_id, source=source):
            _write_page(page, prefix=source is None)
        return
    after = 0
    while True:
        page = client.read_logs(experiment_id, source=source, after=after, limit=10_000)
        _write_page(page, prefix=source is None)
        if not page.lines:
            return
        after = page.next


def _write_page(page: LogPage, *, prefix: bool) -> None:
    if page.purged_at is not None:
        when = page.purged_at.strftime("%Y-%m-%d %H:%M UTC")
        typer.echo(f"the logs were purged on {when} (the organisation's log retention)", err=True)
    for line in page.lines:
        text = f"[{line.source}] {line.text}" if prefix and line.source else line.text
        sys.stdout.write(text.rstrip("\n") + "\n")
    sys.stdout.flush()
