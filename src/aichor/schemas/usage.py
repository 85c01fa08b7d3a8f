"""Usage and cost on the wire: organisation prices and a usage report (JSON or CSV)."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

GroupBy = Literal["organisation", "project", "user", "engine"]


class Prices(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cpu_hour: float = Field(0, ge=0)
    memory_gib_hour: float = Field(0, ge=0)
    gpu_hour: dict[str, float] = Field(default_factory=dict, description="Price by GPU product.")


class UsageRow(BaseModel):
    key: str = Field(description="Id of the project, user or engine (organisation id otherwise).")
    name: str
    experiments: int
    cpu_hours: float
    memory_gib_hours: float
    gpu_hours: dict[str, float]
    cost: float


class UsageView(BaseModel):
    start: datetime
    end: datetime
    group_by: GroupBy
    prices: Prices
    rows: list[UsageRow]
    total_cost: float

    def to_csv(self) -> str:
        """One line per row; GPU hours as one column per product."""
        products = sorted({p for row in self.rows for p in row.gpu_hours})
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(
            [self.group_by, "name", "experiments", "cpu_hours", "memory_gib_hours"]
            + [f"gpu_hours[{p}]" for p in products]
            + ["cost"]
        )
        for row in self.rows:
            writer.writerow(
                [row.key, row.name, row.experiments, f"{row.cpu_hours:.6f}"]
                + [f"{row.memory_gib_hours:.6f}"]
                + [f"{row.gpu_hours.get(p, 0.0):.6f}" for p in products]
                + [f"{row.cost:.6f}"]
            )
        return out.getvalue()
