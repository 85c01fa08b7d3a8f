"""Terminals: a shell in a running replica, for users who may see the experiment.

Called by `aichor.web.terminal` (the websocket). The access check is the experiment's own
(`experiments.get_experiment`: same organisation, member of the project); the engine then
refuses a replica that is not running.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from aichor.db import tables
from aichor.engines.base import Shell
from aichor.errors import Conflict
from aichor.lifecycle import ReplicaStatus, Step
from aichor.pipeline.work import context_for
from aichor.services import audit, experiments
from aichor.services.access import Actor
from aichor.settings import Settings


def open_shell(
    session: Session, actor: Actor, experiment_id: str, *, replica: str, settings: Settings
) -> Shell:
    """A shell in `replica` of the experiment; Conflict unless that replica runs now."""
    view = experiments.get_experiment(session, actor, experiment_id)
    state = next((r for r in view.replicas if r.name == replica), None)
    if view.current_step != Step.RUNNING or state is None or state.status != ReplicaStatus.RUNNING:
        raise Conflict(f"replica {replica} of experiment {view.id} is not running")
    workload = session.get_one(tables.Experiment, view.id).workload_name
    shell = context_for(settings).engine.open_shell(workload, replica)
    audit.record(session, actor, "experiment.terminal", target=view.id, detail={"replica": replica})
    return shell
