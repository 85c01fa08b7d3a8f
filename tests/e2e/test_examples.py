"""Every bundled example runs under `aichor run` and shows its distributed effect.

Real frameworks, real processes: Ray nodes, torch.distributed over gloo, jax.distributed,
xgboost's tracker. The first run of each builds its environment (cached across runs).
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, CliResult

pytestmark = pytest.mark.slow


def run_example(run_cli, name: str) -> CliResult:  # type: ignore[no-untyped-def]
    result: CliResult = run_cli("run", str(EXAMPLES / name))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr
    return result


def test_kuberay_spreads_tasks_over_the_nodes_by_custom_resource(run_cli) -> None:  # type: ignore[no-untyped-def]
    out = run_example(run_cli, "kuberay").stdout
    assert re.search(r"\| NODES 2\b", out), out[-3000:]
    resources = re.search(r"\| RESOURCES (.*)", out)
    assert resources, out[-3000:]
    assert "head=100000" in resources.group(1)
    assert "cpu-workers=100000" in resources.group(1)
    # Tasks pinned by custom resource ran on two different nodes.
    placements = dict(re.findall(r"\| TASK (\S+) NODE (\S+)", out))
    assert set(placements) == {"head", "cpu-workers"}, out[-3000:]
    assert placements["head"] != placements["cpu-workers"]


def _allreduce_lines(out: str) -> list[tuple[int, float, float]]:
    return [
        (int(r), float(s), float(e))
        for r, s, e in re.findall(r"\| RANK (\d+) ALLREDUCE (\S+) EXPECTED (\S+)", out)
    ]


def test_pytorch_all_reduce_equals_the_sum_over_ranks(run_cli) -> None:  # type: ignore[no-untyped-def]
    out = run_example(run_cli, "pytorch").stdout
    lines = _allreduce_lines(out)
    assert sorted(rank for rank, _, _ in lines) == [0, 1], out[-3000:]
    world = len(lines)
    expected = sum(rank + 1 for rank in range(world))
    assert all(total == expected == exp for _, total, exp in lines)


def test_two_pytorch_experiments_at_the_same_time_both_succeed(run_cli) -> None:  # type: ignore[no-untyped-def]
    run_example(run_cli, "pytorch")  # warm the environment cache first
    results: list[CliResult] = []
    threads = [
        threading.Thread(target=lambda: results.append(run_cli("run", str(EXAMPLES / "pytorch"))))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
    for result in results:
        assert len(_allreduce_lines(result.stdout)) == 2


def test_jax_distributed_sum_over_processes(run_cli) -> None:  # type: ignore[no-untyped-def]
    out = run_example(run_cli, "jax").stdout
    lines = re.findall(r"\| PROCESS (\d+) SUM (\S+) EXPECTED (\S+)", out)
    assert sorted(int(p) for p, _, _ in lines) == [0, 1], out[-3000:]
    assert all(float(s) == float(e) for _, s, e in lines)


def test_xgboost_model_trained_by_two_workers(run_cli) -> None:  # type: ignore[no-untyped-def]
    out = run_example(run_cli, "xgboost").stdout
    trained = re.findall(r"\| RANK (\d+) WORLD (\d+) TRAINED rounds=(\d+)", out)
    assert sorted(int(r) for r, _, _ in trained) == [0, 1], out[-3000:]
    assert {w for _, w, _ in trained} == {"2"}
    checksums = set(re.findall(r"\| RANK \d+ MODEL (\S+)", out))
    assert len(checksums) == 1, "both workers must hold the same model"


def test_jobset_runs_every_index_once_within_parallelism(run_cli, aichor_env) -> None:  # type: ignore[no-untyped-def]
    out = run_example(run_cli, "jobset").stdout
    pods = re.findall(r"\| JOBSET type=(\S+) job=(\d+) completion=(\d+) global=(\d+)", out)
    assert len(pods) == len(set(pods)) == 7, out[-3000:]
    # Each pod recorded its start and end in the experiment's output folder.
    records = [
        json.loads(path.read_text())
        for path in Path(aichor_env["AICHOR_HOME"]).glob("buckets/jobset/output/output/*/pods/*")
    ]
    ran = sorted((r["type"], r["job"], r["completion"]) for r in records)
    expected = [("reporter", 0, 0)] + [("worker", j, c) for j in range(2) for c in range(3)]
    assert ran == expected, "every (type, job, completion) index runs exactly once"
    for job in range(2):
        spans = [
            (r["start"], r["end"]) for r in records if (r["type"], r["job"]) == ("worker", job)
        ]
        assert max_overlap(spans) <= 2, f"job {job} ran more than parallelisms=2 pods at once"
    # With parallelism 2 the third completion of a job must wait for one of the first two.
    assert max_overlap([(r["start"], r["end"]) for r in records if r["type"] == "worker"]) >= 2


def max_overlap(spans: list[tuple[float, float]]) -> int:
    """Most intervals open at the same instant."""
    events = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    best = current = 0
    for _, step in events:
        current += step
        best = max(best, current)
    return best
