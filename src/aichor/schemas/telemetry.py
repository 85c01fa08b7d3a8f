"""Resource metrics and replica lists on the wire (`/api/experiments/{id}/metrics|replicas`)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from aichor.schemas.experiments import ReplicaView


class MetricPointView(BaseModel):
    at: datetime
    cpu: float = Field(description="Cores in use (1.0 = one core busy).")
    memory_bytes: int = Field(description="Resident memory of the replica's process tree.")
    gpu_util: float | None = Field(description="GPU utilisation percent; null without NVML.")
    gpu_memory_bytes: int | None = Field(description="GPU memory in use; null without NVML.")


class MetricSeriesView(BaseModel):
    replica: str
    points: list[MetricPointView]


class MetricsView(BaseModel):
    experiment_id: str
    interval_seconds: float = Field(description="Seconds between two samples of a replica.")
    series: list[MetricSeriesView]
    latest: datetime | None = Field(description="Newest point returned: the next `since`.")


class ReplicaListView(BaseModel):
    experiment_id: str
    status: str
    failed_replica: str = Field(description="The replica that failed first; empty if none.")
    failure_reason: str
    replicas: list[ReplicaView]
