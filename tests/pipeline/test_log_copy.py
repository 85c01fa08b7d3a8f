"""The pipeline's side of logs: the Building step's lines are in the store as the build emits
them (a follower sees them live), and the pump copies a running workload's lines between two
looks of the reconciler, exactly once even when the reconciler drains at the same time; a
SIGKILLed engine supervisor leaves every line it wrote to be copied."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

from aichor.engines.base import BuildRequest, ImageRef
from aichor.engines.local.detached import DetachedLocalEngine
from aichor.lifecycle import Step, StepStatus
from aichor.logs.redact import Redactor
from aichor.logs.store import LogStore
from aichor.pipeline import build
from aichor.pipeline.log_copy import LogPump, copy_lines
from aichor.pipeline.work import Context, Job
from aichor.settings import Settings
from tests.conftest import SHARED_CACHE
from tests.engines.plans import py, task, unique, workload
from tests.pipeline.conftest import MANIFEST, write_repo

NO_SECRETS = Redactor(())


class _Watching(DetachedLocalEngine):
    """The real engine; its build's `on_log` is wrapped to look at the store after each line,
    with a store of its own, as an API follower would."""

    visible: list[bool]
    store: LogStore
    experiment_id: str

    def build(self, request: BuildRequest, on_log: Callable[[str], None]) -> ImageRef:
        def watched(text: str) -> None:
            on_log(text)
            lines = self.store.read(self.experiment_id, "Building", limit=10_000).lines
            self.visible.append(bool(lines) and lines[-1].text == text)

        return super().build(request, watched)


def test_the_build_log_is_in_the_store_as_each_line_is_emitted(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", AICHOR_CACHE_DIR=SHARED_CACHE)
    engine = _Watching(state_dir=settings.runs_dir, cache_dir=settings.cache_dir)
    logs = LogStore(settings.logs_dir)
    engine.visible, engine.store, engine.experiment_id = [], LogStore(settings.logs_dir), "exp-b"
    ctx = Context(settings=settings, engine=engine, logs=logs, pump=LogPump(engine, logs))
    job = _job("exp-b")
    write_repo(ctx.workspace(job) / "repo")
    result = build.act(job, ctx)
    assert result.status == StepStatus.SUCCEEDED, result.message
    assert engine.visible and all(engine.visible), engine.visible


def test_the_pump_streams_a_running_workload_and_copies_each_line_once(tmp_path: Path) -> None:
    engine = DetachedLocalEngine(state_dir=tmp_path / "runs", cache_dir=tmp_path / "cache")
    store = LogStore(tmp_path / "logs", sync=False)
    name = unique("pump")
    ticker = "import time\nfor i in range(60):\n    print(f't {i}', flush=True); time.sleep(0.02)"
    engine.submit(workload(name, task("a", f"{py(ticker)}")))
    pump = LogPump(engine, store)
    pump.watch("exp-p", name, NO_SECRETS)
    drains = threading.Thread(  # the reconciler's drain racing the pump
        target=lambda: [copy_lines(engine, store, "exp-p", name, NO_SECRETS) for _ in range(200)]
    )
    drains.start()
    try:
        deadline = time.monotonic() + 30
        while store.count("exp-p", "a") < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert engine.outcome(name) is None, "the lines should arrive while it still runs"
        while engine.outcome(name) is None and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        drains.join()
        pump.stop()
    copy_lines(engine, store, "exp-p", name, NO_SECRETS)
    texts = [line.text for line in store.read("exp-p", "a", limit=1000).lines]
    assert texts == [f"t {i}" for i in range(60)]


def test_the_pump_alone_copies_lines_that_come_after_quiet_spells(tmp_path: Path) -> None:
    """The pump copies only when a stream has grown: every line written after a pause, and a
    line finished after its first half was flushed, still arrive while the workload runs."""
    engine = DetachedLocalEngine(state_dir=tmp_path / "runs", cache_dir=tmp_path / "cache")
    store = LogStore(tmp_path / "logs", sync=False)
    name = unique("quiet")
    script = (
        "import sys, time\n"
        "for i in range(4):\n    print(f't {i}', flush=True); time.sleep(0.3)\n"
        "sys.stdout.write('half'); sys.stdout.flush(); time.sleep(0.3)\n"
        "print(' done', flush=True); time.sleep(60)"
    )
    engine.submit(workload(name, task("a", f"{py(script)}")))
    pump = LogPump(engine, store)
    pump.watch("exp-q", name, NO_SECRETS)
    try:
        deadline = time.monotonic() + 30
        while store.count("exp-q", "a") < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        texts = [line.text for line in store.read("exp-q", "a", limit=100).lines]
        assert engine.outcome(name) is None, "the lines should arrive while it still runs"
    finally:
        pump.stop()
        engine.cancel(name)
    assert texts == ["t 0", "t 1", "t 2", "t 3", "half done"]


def _job(experiment_id: str) -> Job:
    return Job(
        id=experiment_id, project_id="p", project_name="demo", repository_url="",
        engine_name="local", user_email="a@example.com", user_name="A", source_kind="archive",
        commit_sha="", branch="", message="", archive_key="",
        manifest_path="aichor/manifest.yaml",
        manifest_text=MANIFEST.format(command="python -c pass", count=1, cpus=0.25),
        workload_name="w", step=Step.BUILDING, step_status=StepStatus.RUNNING,
        cancel_requested=False,
    )  # fmt: skip


def test_a_killed_engine_supervisor_keeps_every_line_it_wrote(tmp_path: Path) -> None:
    engine = DetachedLocalEngine(state_dir=tmp_path / "runs", cache_dir=tmp_path / "cache")
    store = LogStore(tmp_path / "logs", sync=False)
    name = unique("engine-crash")
    ticker = (
        "import time\nfor i in range(10_000):\n    print(f't {i}', flush=True); time.sleep(0.002)"
    )
    engine.submit(workload(name, task("a", f"{py(ticker)}")))
    deadline = time.monotonic() + 30
    while copy_lines(engine, store, "exp-k", name, NO_SECRETS) < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    while store.count("exp-k", "a") < 50 and time.monotonic() < deadline:
        copy_lines(engine, store, "exp-k", name, NO_SECRETS)
        time.sleep(0.01)
    pid = json.loads((tmp_path / "runs" / name / "supervisor.json").read_text())["pid"]
    os.kill(pid, signal.SIGKILL)
    while engine.alive(name) and time.monotonic() < deadline:
        time.sleep(0.02)
    outcome = engine.outcome(name)
    assert outcome is not None and "died without an outcome" in outcome.reason
    copy_lines(engine, store, "exp-k", name, NO_SECRETS)
    written = engine.read_log(name).lines()
    texts = [line.text for line in store.read("exp-k", "a", limit=100_000).lines]
    assert texts == [line.text for line in written if line.source == "a"]
    assert len(texts) >= 50 and texts == [f"t {i}" for i in range(len(texts))]
