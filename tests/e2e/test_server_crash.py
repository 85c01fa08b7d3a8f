"""Crash: `aichor server` is SIGKILLed while an experiment runs and another is queued; after a
restart the running one ends Succeeded with every log line, and the queued one is not lost."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pipeline.conftest import write_repo
from tests.pipeline.servers import all_logs, post_archive, running_server, wait_for

TICKS = 40
TICKER = f"""\
import time
for i in range({TICKS}):
    print(f"tick {{i}}", flush=True)
    time.sleep(0.1)
"""


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_sigkill_during_running(kind: str, tmp_path: Path) -> None:
    ticker, quick = tmp_path / "ticker", tmp_path / "quick"
    write_repo(ticker, command="python ticker.py", cpus=2, files={"ticker.py": TICKER})
    write_repo(quick, command="python -c \"print('queued one ran')\"", cpus=1)
    with running_server(kind, tmp_path / "home") as (server, client):
        running = post_archive(client, ticker)
        queued = post_archive(client, quick)
        wait_for(
            client, running, lambda e: any(t.startswith("tick") for t in all_logs(client, e["id"]))
        )
        assert client.get(f"/api/experiments/{queued}").json()["current_step"] == "Waiting"
        server.kill()
        server.start()
        done = wait_for(client, running)
        assert done["status"] == "Succeeded", done
        ticks = [t for t in all_logs(client, running) if t.startswith("tick")]
        assert ticks == [f"tick {i}" for i in range(TICKS)]
        assert wait_for(client, queued)["status"] == "Succeeded"
        assert "queued one ran" in all_logs(client, queued)
