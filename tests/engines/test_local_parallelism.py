"""JobSet parallelism on the local engine: never exceeded, every index run exactly once."""

from __future__ import annotations

from pathlib import Path

from aichor.engines.local import LocalEngine
from aichor.lifecycle import ExperimentStatus
from tests.engines.plans import assert_no_process_left, py, task, unique, workload

_RECORD = """
import os, sys, time
path = os.path.join(sys.argv[1], os.environ["REPLICA"])
start = time.monotonic()
time.sleep(0.3)
with open(path, "a") as out:
    out.write(f"{start} {time.monotonic()}\\n")
"""


def test_parallelism_is_never_exceeded(engine: LocalEngine, tmp_path: Path) -> None:
    name = unique("jobset")
    records = tmp_path / "records"
    records.mkdir()
    replicas = []
    for job, count in (("a", 5), ("b", 3)):
        for index in range(count):
            replica = f"{job}-{index}"
            replicas.append(
                task(
                    replica,
                    f"{py(_RECORD)} {records}",
                    job=f"{name}-{job}",
                    index=index,
                    env={"REPLICA": replica},
                )
            )
    engine.submit(workload(name, *replicas, parallelism={f"{name}-a": 2, f"{name}-b": 1}))
    outcome = engine.wait(name, timeout=120)
    assert outcome.status == ExperimentStatus.SUCCEEDED

    for job, count, limit in (("a", 5, 2), ("b", 3, 1)):
        spans = []
        for index in range(count):
            lines = (records / f"{job}-{index}").read_text().splitlines()
            assert len(lines) == 1, f"{job}-{index} ran {len(lines)} times"
            start, end = map(float, lines[0].split())
            spans.append((start, end))
        assert _max_overlap(spans) <= limit
    assert_no_process_left(name)


def _max_overlap(spans: list[tuple[float, float]]) -> int:
    events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    return peak
