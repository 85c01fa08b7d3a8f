"""Logs end to end through a real `aichor server` (SQLite and PostgreSQL): 100,000 lines from 4
replicas arrive complete and in per-replica order; a replica SIGKILLed mid-stream keeps every
line it wrote; a Server-Sent-Events follower that reconnects from an offset misses nothing and
repeats nothing; a download is the whole log; the Building step's log is followed like any other."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.pipeline.conftest import write_repo
from tests.pipeline.servers import Server, post_archive, running_server, wait_for

PER_REPLICA = 25_000
SPAM = f"""\
import sys
write = sys.stdout.write
for i in range({PER_REPLICA}):
    write(f"n {{i}}\\n")
"""
KILLED = """\
import os, signal, sys
for i in range(300):
    print(f"before kill {i}", flush=True)
os.kill(os.getpid(), signal.SIGKILL)
print("never printed", flush=True)
"""
SLOW = """\
import time
for i in range(400):
    print(f"slow {i}", flush=True)
    if i % 20 == 0:
        time.sleep(0.05)
"""


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, httpx.Client]]:
    home = tmp_path_factory.mktemp(f"logs-{request.param}") / "home"
    with running_server(request.param, home) as (server, client):
        yield server, client


def _pages(client: httpx.Client, experiment_id: str, source: str | None = None) -> list[dict]:  # type: ignore[type-arg]
    lines: list[dict] = []  # type: ignore[type-arg]
    after = 0
    while True:
        params: dict[str, Any] = {"after": after, "limit": 10_000}
        if source:
            params["source"] = source
        page = client.get(f"/api/experiments/{experiment_id}/logs", params=params).json()
        lines += page["lines"]
        if not page["lines"]:
            return lines
        after = page["next"]


def _sse(
    client: httpx.Client, experiment_id: str, *, headers: dict[str, str], params: dict[str, Any]
) -> Iterator[tuple[str, str, dict]]:  # type: ignore[type-arg]
    """(event, id, data) of the stream, parsed by hand: the test checks the wire format."""
    url = f"/api/experiments/{experiment_id}/logs/stream"
    with client.stream("GET", url, headers=headers, params=params, timeout=60) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        fields: dict[str, str] = {}
        for line in response.iter_lines():
            if line == "":
                if "data" in fields:
                    yield fields.get("event", ""), fields.get("id", ""), json.loads(fields["data"])
                fields = {}
            elif not line.startswith(":"):
                name, _, value = line.partition(": ")
                fields[name] = value


def test_100k_lines_from_4_replicas_arrive_complete_and_in_order(
    live: tuple[Server, httpx.Client], tmp_path: Path
) -> None:
    _server, client = live
    repo = tmp_path / "spam"
    write_repo(repo, command="python spam.py", count=4, cpus=0.25, files={"spam.py": SPAM})
    experiment_id = post_archive(client, repo)
    done = wait_for(client, experiment_id, timeout=180)
    assert done["status"] == "Succeeded", done
    replicas = sorted(r["name"] for r in done["replicas"])
    assert len(replicas) == 4
    interleaved = _pages(client, experiment_id)
    expected = [f"n {i}" for i in range(PER_REPLICA)]
    for name in replicas:
        assert [line["text"] for line in interleaved if line["source"] == name] == expected
        assert [line["text"] for line in _pages(client, experiment_id, name)] == expected
    stamps = [line["timestamp"] for line in interleaved]
    assert all(stamp.endswith("+00:00") or stamp.endswith("Z") for stamp in stamps)


def test_a_replica_killed_mid_stream_keeps_every_line(
    live: tuple[Server, httpx.Client], tmp_path: Path
) -> None:
    _server, client = live
    repo = tmp_path / "killed"
    write_repo(repo, command="python killed.py", files={"killed.py": KILLED})
    experiment_id = post_archive(client, repo)
    done = wait_for(client, experiment_id)
    assert done["status"] == "Failed", done
    assert done["exit_code"] == 137, done
    texts = [line["text"] for line in _pages(client, experiment_id)]
    assert [t for t in texts if t.startswith("before kill")] == [
        f"before kill {i}" for i in range(300)
    ]
    assert "never printed" not in texts


def test_a_follower_reconnecting_from_an_offset_misses_and_repeats_nothing(
    live: tuple[Server, httpx.Client], tmp_path: Path
) -> None:
    _server, client = live
    repo = tmp_path / "slow"
    write_repo(repo, command="python slow.py", files={"slow.py": SLOW})
    experiment_id = post_archive(client, repo)
    received: list[str] = []
    last_id, ended, connections = "0", False, 0
    # Each connection is dropped after its second batch, until the end: odd ones resume with
    # the Last-Event-ID header (as a browser's EventSource does), even ones with ?after=.
    while not ended:
        connections += 1
        by_header = connections % 2 == 1
        headers = {"Last-Event-ID": last_id} if by_header else {}
        params = {"after": "0"} if by_header else {"after": last_id}
        for index, (kind, event_id, data) in enumerate(
            _sse(client, experiment_id, headers=headers, params=params)
        ):
            assert int(event_id) == data["next"]
            if kind == "end":
                assert data["purged_at"] is None and data["lines"] == []
                ended = True
                break
            assert kind == "lines"
            received += [text for _stamp, _source, text in data["lines"]]
            last_id = event_id
            if index == 1:
                break
    assert connections >= 3
    slow = [t for t in received if t.startswith("slow")]
    assert slow == [f"slow {i}" for i in range(400)]
    everything = [line["text"] for line in _pages(client, experiment_id)]
    assert received == everything
    bad = client.get(f"/api/experiments/{experiment_id}/logs/stream", params={"after": 3})
    assert bad.status_code == 400 and "not the start of a line" in bad.json()["detail"]["message"]


def test_download_is_the_whole_log_and_a_step_log_is_followed(
    live: tuple[Server, httpx.Client], tmp_path: Path
) -> None:
    _server, client = live
    repo = tmp_path / "download"
    write_repo(repo, command="python -c \"print('downloaded line')\"")
    experiment_id = post_archive(client, repo)
    building: list[str] = []
    for kind, _id, data in _sse(
        client, experiment_id, headers={}, params={"source": "Building"}
    ):  # the Building stream ends with the experiment; its lines arrive before that
        if kind == "lines":
            building += [text for _stamp, source, text in data["lines"] if source == "Building"]
    assert building == [line["text"] for line in _pages(client, experiment_id, "Building")]
    assert building, "the build wrote nothing"
    done = wait_for(client, experiment_id)
    response = client.get(f"/api/experiments/{experiment_id}/logs/download")
    assert response.status_code == 200
    assert f'filename="{experiment_id}-replicas.log"' in response.headers["content-disposition"]
    rows = [row.split("\t", 2) for row in response.text.splitlines()]
    assert [text for _, _, text in rows] == [line["text"] for line in _pages(client, experiment_id)]
    assert "downloaded line" in [text for _, _, text in rows]
    assert done["status"] == "Succeeded"
