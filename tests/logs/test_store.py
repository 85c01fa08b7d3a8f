"""The log store: byte offsets that resume exactly, exactly-once engine copies (also across a
crash mid-append and between two processes), and clear errors for offsets that are not lines."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aichor.errors import InvalidInput
from aichor.logs.records import format_record
from aichor.logs.store import LogStore
from aichor.replicas import LogLine

EXPERIMENT = "exp-1"
START = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _records(source: str, count: int, first: int = 0) -> bytes:
    """Records of `source` in the store's format, as an engine hands them to the pipeline."""
    lines = [
        LogLine(timestamp=START + timedelta(milliseconds=i), source=source, text=f"{source} {i}")
        for i in range(first, first + count)
    ]
    return b"".join(format_record(source, line) for line in lines)


def test_pages_resume_from_their_offset_without_gaps_or_repeats(tmp_path: Path) -> None:
    store = LogStore(tmp_path, sync=False)
    store.append_records(EXPERIMENT, _records("a", 250))
    store.append_records(EXPERIMENT, _records("b", 100))
    seen: list[str] = []
    after = 0
    while chunk := store.read(EXPERIMENT, after=after, limit=37).lines:
        seen += [line.text for line in chunk]
        after = store.read(EXPERIMENT, after=after, limit=37).next
    assert seen == [f"a {i}" for i in range(250)] + [f"b {i}" for i in range(100)]
    only_b = store.read(EXPERIMENT, "b", limit=1000)
    assert [line.text for line in only_b.lines] == [f"b {i}" for i in range(100)]
    assert only_b.lines[0].timestamp == START and only_b.lines[0].timestamp.tzinfo is not None
    assert store.read(EXPERIMENT, "b", after=only_b.next).lines == []


def test_pages_read_backwards_from_the_tail_join_up_to_the_first_line(tmp_path: Path) -> None:
    """What the dashboard's viewer does when the reader scrolls back: the last lines first,
    then the lines before each page's start, down to offset 0."""
    store = LogStore(tmp_path, sync=False)
    store.append_records(EXPERIMENT, _records("a", 3000))
    store.append_records(
        EXPERIMENT, b"2026-11-30T12:00:05+00:00\ta\tlong " + b"x" * 300_000 + b"\n"
    )
    store.append_records(EXPERIMENT, _records("a", 500, first=3000))
    with (tmp_path / EXPERIMENT / "replicas.log").open("ab") as file:
        file.write(b"2026-11-30T12:00:09+00:00\ta\thalf a li")  # an append cut short
    lines, start, end = store.read_fields_before(EXPERIMENT, limit=100)
    assert [text for _, _, text in lines] == [f"a {i}" for i in range(3400, 3500)]
    assert store.read_fields(EXPERIMENT, after=start, limit=100) == (lines, end)
    seen: list[str] = []
    before = end
    while before > 0:
        lines, before, _ = store.read_fields_before(EXPERIMENT, before=before, limit=333)
        assert lines
        seen = [text for _, _, text in lines] + seen
    numbered = [text for text in seen if not text.startswith("long ")]
    assert numbered == [f"a {i}" for i in range(3500)]
    assert len(seen) == 3501
    with pytest.raises(InvalidInput, match="before: 5 is not the start of a line"):
        store.read_fields_before(EXPERIMENT, before=5)
    assert store.read_fields_before(EXPERIMENT, "Building") == ([], 0, 0)


def test_an_offset_inside_a_line_or_past_the_end_is_refused(tmp_path: Path) -> None:
    store = LogStore(tmp_path, sync=False)
    store.append(EXPERIMENT, "Building", ["first", "second"])
    end = store.read(EXPERIMENT, "Building").next
    with pytest.raises(InvalidInput, match="not the start of a line"):
        store.read(EXPERIMENT, "Building", after=3)
    with pytest.raises(InvalidInput, match="past the end"):
        store.read(EXPERIMENT, "Building", after=end + 1)
    with pytest.raises(InvalidInput, match="past the end"):
        store.read(EXPERIMENT, "Cloning", after=5)


def test_a_batch_is_copied_once_whoever_copies_it(tmp_path: Path) -> None:
    store = LogStore(tmp_path, sync=False)
    batch = _records("a", 10)
    assert store.append_records(EXPERIMENT, batch, engine=(0, 400)) == 10
    assert store.append_records(EXPERIMENT, batch, engine=(0, 400)) == 0
    assert store.engine_position(EXPERIMENT) == 400
    assert store.count(EXPERIMENT) == 10


def test_an_append_cut_short_by_a_crash_is_redone_not_duplicated(tmp_path: Path) -> None:
    store = LogStore(tmp_path, sync=False)
    store.append_records(EXPERIMENT, _records("a", 5), engine=(0, 100))
    # What a crash between the write and the cursor leaves: the next batch's bytes, half
    # written, and the engine position not moved.
    for stream in ("replicas", "a"):
        with (tmp_path / EXPERIMENT / f"{stream}.log").open("ab") as handle:
            handle.write(b"2026-11-30T12:00:00.005000+00:00\ta\ta 5\n2026-11-30T12:00")
    assert store.engine_position(EXPERIMENT) == 100
    store.append_records(EXPERIMENT, _records("a", 5, first=5), engine=(100, 200))
    for source in (None, "a"):
        texts = [line.text for line in store.read(EXPERIMENT, source, limit=100).lines]
        assert texts == [f"a {i}" for i in range(10)]


def _copy_in_a_process(root: Path, start: int) -> int:
    return LogStore(root, sync=False).append_records(
        EXPERIMENT, _records("a", 1000, first=start), engine=(start, start + 1000)
    )


def test_two_processes_copying_the_same_batches_write_each_once(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        written = pool.starmap(_copy_in_a_process, [(tmp_path, 0), (tmp_path, 0)] * 3)
    assert sorted(written) == [0] * 5 + [1000]
    texts = [line.text for line in LogStore(tmp_path).read(EXPERIMENT, limit=5000).lines]
    assert texts == [f"a {i}" for i in range(1000)]


def test_steps_have_their_own_stream_and_delete_removes_everything(tmp_path: Path) -> None:
    store = LogStore(tmp_path, sync=False)
    store.append(EXPERIMENT, "Building", ["step line"])
    store.append_records(EXPERIMENT, _records("a", 1))
    assert [line.text for line in store.read(EXPERIMENT).lines] == ["a 0"]
    assert [line.source for line in store.read(EXPERIMENT, "Building").lines] == ["Building"]
    assert store.delete(EXPERIMENT)
    assert store.read(EXPERIMENT).lines == []
    assert not store.delete(EXPERIMENT)


def test_half_a_step_line_left_by_a_crash_is_dropped_not_glued_to_the_next(
    tmp_path: Path,
) -> None:
    store = LogStore(tmp_path, sync=False)
    store.append(EXPERIMENT, "Building", ["first"])
    with store.path(EXPERIMENT, "Building").open("ab") as handle:
        handle.write(b"2026-11-30T12:00:00+00:00\tBuilding\thal")
    assert [line.text for line in store.read(EXPERIMENT, "Building").lines] == ["first"]
    store.append(EXPERIMENT, "Building", ["second"])
    assert [line.text for line in store.read(EXPERIMENT, "Building").lines] == ["first", "second"]
