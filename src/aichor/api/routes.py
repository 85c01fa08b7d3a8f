"""The registry of routers that `aichor.app.create_app` mounts: add a router here.

`aichor.api.experiments` (the pipeline engineer's) is mounted when the module exists, so the
app starts while it is being written; its routes are then covered by the role-matrix test.
"""

from __future__ import annotations

import importlib
import importlib.util

from fastapi import APIRouter

from aichor.api import (
    audit,
    auth,
    dashboards,
    engines,
    invitations,
    projects,
    storage,
    telemetry,
    tokens,
    usage,
    users,
    variables,
    webhooks,
)

ROUTERS: list[APIRouter] = [
    auth.router,
    tokens.router,
    invitations.router,
    users.router,
    projects.router,
    variables.router,
    storage.router,
    engines.router,
    usage.router,
    audit.router,
    telemetry.router,
    dashboards.router,
    webhooks.router,
]

OPTIONAL_MODULES = ("aichor.api.experiments",)


def all_routers() -> list[APIRouter]:
    found = [
        importlib.import_module(name).router
        for name in OPTIONAL_MODULES
        if importlib.util.find_spec(name) is not None
    ]
    # The experiment routes first: the router tries routes in order, and submissions and list
    # pages are most of the traffic.
    return [*found, *ROUTERS]
