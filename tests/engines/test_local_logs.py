"""Log capture of the local engine: UTC stamps, per-replica order, offsets, follow, crash safety."""

from __future__ import annotations

from datetime import UTC, timedelta

from aichor.engines.local import LocalEngine
from aichor.engines.local.log_files import LogStore
from aichor.lifecycle import ExperimentStatus
from tests.engines.plans import py, task, unique, workload

_COUNT = """
import sys, time
for i in range(int(sys.argv[1])):
    print(f"{sys.argv[2]} {i}", flush=True)
    if i % 10 == 0:
        time.sleep(0.01)
print(f"{sys.argv[2]} to stderr", file=sys.stderr, flush=True)
"""


def test_lines_are_stamped_in_utc_and_ordered_per_replica(engine: LocalEngine) -> None:
    name = unique("logs")
    engine.submit(workload(name, task("a", f"{py(_COUNT)} 50 a"), task("b", f"{py(_COUNT)} 30 b")))
    engine.wait(name, timeout=60)
    for replica, count in (("a", 50), ("b", 30)):
        lines = engine.logs(name, replica)
        assert [line.text for line in lines] == [
            *(f"{replica} {i}" for i in range(count)),
            f"{replica} to stderr",
        ]
        assert all(line.source == replica for line in lines)
        assert all(line.timestamp.utcoffset() == timedelta(0) for line in lines)
        stamps = [line.timestamp for line in lines]
        assert stamps == sorted(stamps)
    everything = engine.logs(name)
    assert len([line for line in everything if line.source in ("a", "b")]) == 82
    assert [line.timestamp for line in everything] == sorted(line.timestamp for line in everything)


def test_after_skips_lines_already_read(engine: LocalEngine) -> None:
    name = unique("offsets")
    engine.submit(workload(name, task("a", f"{py(_COUNT)} 20 a")))
    engine.wait(name, timeout=60)
    full = engine.logs(name, "a")
    assert engine.logs(name, "a", after=5) == full[5:]
    assert engine.logs(name, "a", after=len(full)) == []
    assert engine.logs(name, "a", after=len(full) + 10) == []
    everything = engine.logs(name)
    assert engine.logs(name, after=3) == everything[3:]


def test_follow_yields_every_line_exactly_once(engine: LocalEngine) -> None:
    name = unique("follow")
    engine.submit(
        workload(name, task("a", f"{py(_COUNT)} 200 a"), task("b", f"{py(_COUNT)} 100 b"))
    )
    followed = list(engine.follow(name))
    assert engine.wait(name, timeout=5).status == ExperimentStatus.SUCCEEDED
    assert followed == engine.logs(name)
    texts = [line.text for line in followed]
    assert len(texts) == len(set(texts))
    assert followed[-1].source == "aichor" and "Succeeded" in followed[-1].text
    resumed = list(engine.follow(name, after=100))
    assert resumed == followed[100:]


def test_a_killed_replica_keeps_every_line_it_wrote(engine: LocalEngine) -> None:
    name = unique("killed")
    command = f"{py(_COUNT)} 300 a; kill -9 $$"
    engine.submit(workload(name, task("a", command)))
    outcome = engine.wait(name, timeout=60)
    assert outcome.status == ExperimentStatus.FAILED
    assert outcome.exit_code == 137
    assert len(engine.logs(name, "a")) == 301


def test_logs_are_readable_from_the_files_by_a_later_engine(engine: LocalEngine) -> None:
    name = unique("reread")
    engine.submit(workload(name, task("a", f"{py(_COUNT)} 10 a")))
    engine.wait(name, timeout=60)
    later = LocalEngine(state_dir=engine.state_dir, cache_dir=engine.cache_dir)
    assert later.logs(name, "a") == engine.logs(name, "a")
    store = LogStore(engine.state_dir / name / "logs")
    assert store.count("a") == 11
    assert store.read("a")[0].timestamp.tzinfo is not None
    assert store.read("a")[0].timestamp.astimezone(UTC) == store.read("a")[0].timestamp


_PROGRESS = """
import sys
sys.stdout.write("10%\\r50%\\r100%\\n")
sys.stdout.write("done\\n")
"""


def test_a_carriage_return_stays_inside_its_line(engine: LocalEngine) -> None:
    """A progress bar's `\\r` does not split a line into two records for any reader."""
    name = unique("progress")
    engine.submit(workload(name, task("a", py(_PROGRESS))))
    engine.wait(name, timeout=60)
    # The engine's own notes (e.g. about memory limits) may come first.
    assert [line.text for line in engine.logs(name, "a")][-2:] == ["10% 50% 100%", "done"]
    stored = [line.text for line in engine.read_log(name).lines() if line.source == "a"]
    assert stored[-2:] == ["10% 50% 100%", "done"]
