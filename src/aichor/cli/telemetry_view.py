"""Rendering of `aichor experiments metrics`: one line per replica, from its time series.

Rich is imported inside the function, like experiment_view.py, to keep `import aichor.cli` fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.table import Table

    from aichor.client.views import MetricsView


def metrics_table(view: MetricsView) -> Table:
    """Samples, latest and mean CPU, latest and peak memory, latest GPU use per replica."""
    from rich.table import Table

    table = Table(box=None, header_style="bold")
    for name in ("REPLICA", "SAMPLES", "CPU", "CPU MEAN", "MEMORY", "MEMORY PEAK", "GPU"):
        table.add_column(name, no_wrap=True)
    for series in view.series:
        points = series.points
        if not points:
            continue
        last = points[-1]
        gpu = "-"
        if last.gpu_util is not None:
            gpu = f"{last.gpu_util:.0f}% {human_bytes(last.gpu_memory_bytes or 0)}"
        table.add_row(
            series.replica,
            str(len(points)),
            f"{last.cpu:.2f}",
            f"{sum(p.cpu for p in points) / len(points):.2f}",
            human_bytes(last.memory_bytes),
            human_bytes(max(p.memory_bytes for p in points)),
            gpu,
        )
    return table


def human_bytes(value: int) -> str:
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"
