"""`make demo`'s job: the embedded server runs a bundled example submitted through the CLI."""

from __future__ import annotations

import json
import re
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

from tests.conftest import AICHOR, EXAMPLES


def answers(url: str) -> bool:
    try:
        urllib.request.urlopen(f"{url}/api/me", timeout=2)  # noqa: S310 - local test server
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


def test_demo_runs_an_example_through_the_server_and_prints_its_url(
    aichor_env: dict[str, str], tmp_path: Path
) -> None:
    def demo(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(AICHOR), "demo", *args],
            env=aichor_env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    try:
        first = demo(str(EXAMPLES / "jobset"), "--port", "0")
        assert first.returncode == 0, first.stdout + first.stderr
        submitted = json.loads(first.stdout[first.stdout.index("{") : first.stdout.index("}") + 1])
        assert "experiment_id" in submitted
        assert "Completed Succeeded" in first.stdout + first.stderr
        url = re.search(r"API and dashboard: (http://127\.0\.0\.1:\d+)", first.stdout)
        assert url and answers(url.group(1))
        # Idempotent: a second demo reuses the running server.
        second = demo(str(EXAMPLES / "jobset"))
        assert second.returncode == 0, second.stdout + second.stderr
        assert "starting aichor server" not in second.stdout
        assert url.group(1) in second.stdout
    finally:
        demo("--stop")
    assert not answers(url.group(1))
