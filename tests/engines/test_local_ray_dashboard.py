"""The Ray head's dashboard on the local engine: its URL is recorded in the run folder when the
head starts, the dashboard answers there while the cluster runs (the URL the server's
`/ray-dashboard/` proxy forwards to), the head's samples count its raylet and dashboard
processes, and the URL is withdrawn once the workload ended."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from aichor.engines.base import ImageRef, RunPolicy, Workload
from aichor.engines.local import LocalEngine
from aichor.engines.local.detached import DetachedLocalEngine
from aichor.lifecycle import ExperimentStatus
from tests.engines.plans import assert_no_process_left, unique
from tests.engines.test_local_ray import _cluster, ray_env  # noqa: F401 - the fixture

_WAIT_FOR_STOP = (
    "python -c 'import os, time\nwhile not os.path.exists(\"{stop}\"): time.sleep(0.2)'"
)


@pytest.mark.slow
def test_dashboard_url_is_recorded_and_answers(
    engine: LocalEngine,
    ray_env: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    name = unique("raydash")
    stop = tmp_path / "stop"
    plan = _cluster(name, engine.new_addressing(), _WAIT_FOR_STOP.format(stop=stop))
    image = ImageRef(ref="ray-test", root=None, python_env=ray_env)
    engine.submit(Workload(plan, image, RunPolicy(grace_period_seconds=5)))
    reader = DetachedLocalEngine(state_dir=engine.state_dir, cache_dir=engine.cache_dir)
    head = plan.replicas[0].ray
    assert head is not None
    try:
        deadline = time.monotonic() + 240
        version = None
        while time.monotonic() < deadline and version is None:
            url = reader.endpoints(name).get("ray-dashboard")
            if url is not None:
                assert url == f"http://127.0.0.1:{head.dashboard_port}"
                try:
                    answer = httpx.get(f"{url}/api/version", timeout=5)
                    if answer.status_code == 200:
                        version = answer.json()
                except httpx.HTTPError:
                    pass
            time.sleep(0.5)
        assert version is not None and "ray_version" in version, engine.logs(name)[-30:]
        samples = {s.replica: s for s in engine.sample(name)}
        assert samples[plan.replicas[0].name].memory_bytes > 100 * 1024**2  # GCS, raylet, ...
    finally:
        stop.touch()
    assert engine.wait(name, timeout=120).status == ExperimentStatus.SUCCEEDED
    assert reader.endpoints(name) == {}
    assert_no_process_left(name, timeout=30)
