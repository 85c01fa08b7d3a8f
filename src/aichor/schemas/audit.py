"""Audit log entries as the API returns them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class AuditEventView(BaseModel):
    id: str
    at: datetime
    user_email: str | None
    action: str
    target: str
    detail: dict[str, Any]
