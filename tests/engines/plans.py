"""Hand-built ReplicaPlans and process checks for the local engine's runtime tests.

Plans use plain `python3 -c` / shell commands and an ImageRef without a file tree whose
environment is this interpreter's, so the tests need no build.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path

import psutil

from aichor.engines.base import ImageRef, RunPolicy, Workload
from aichor.replicas import ReplicaKind, ReplicaPlan, ReplicaSpec, Resources, SuccessRule

PYTHON = sys.executable
IMAGE = ImageRef(ref="test", root=None, python_env=Path(sys.prefix))
SMALL = Resources(cpus=0.1, memory_gib=0.05)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def task(
    name: str,
    command: str,
    *,
    replica_type: str = "Worker",
    job: str | None = None,
    index: int = 0,
    env: Mapping[str, str] | None = None,
    resources: Resources = SMALL,
) -> ReplicaSpec:
    return ReplicaSpec(
        name=name,
        replica_type=replica_type,
        index=index,
        kind=ReplicaKind.TASK,
        command=command,
        env=dict(env or {}),
        resources=resources,
        job=job or name,
    )


def workload(
    name: str,
    *replicas: ReplicaSpec,
    success: SuccessRule = SuccessRule.ALL,
    parallelism: Mapping[str, int] | None = None,
    policy: RunPolicy | None = None,
) -> Workload:
    plan = ReplicaPlan(name, tuple(replicas), success, dict(parallelism or {}))
    return Workload(plan=plan, image=IMAGE, policy=policy or RunPolicy(grace_period_seconds=5))


def py(code: str) -> str:
    """A shell command running `code` with this interpreter (quoted for /bin/sh)."""
    return f"{PYTHON} -c {_sh_quote(code)}"


def _sh_quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


def processes_of(workload_name: str) -> list[psutil.Process]:
    """Live (non-zombie) processes whose environment names the workload."""
    found = []
    for process in psutil.process_iter():
        if process.pid == os.getpid():
            continue
        try:
            ours = process.environ().get("AICHOR_WORKLOAD") == workload_name
            if ours and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process)
        except psutil.Error:
            continue
    return found


def eventually(check: Callable[[], bool], *, timeout: float = 30, what: str = "condition") -> None:
    """Poll `check` every 20 ms until it holds; fail after `timeout` seconds."""
    end = time.monotonic() + timeout
    while not check():
        if time.monotonic() > end:
            raise AssertionError(f"{what} not reached within {timeout}s")
        time.sleep(0.02)


def assert_no_process_left(workload_name: str, timeout: float = 15) -> None:
    eventually(
        lambda: not processes_of(workload_name),
        timeout=timeout,
        what=f"every process of {workload_name} gone",
    )
