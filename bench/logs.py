"""Logs end to end: latency from a workload's print to a following SSE client, and sustained
lines per second, against `tail -F` of the engine's output file of the same run as the baseline.

A real `aichor server` (SQLite, one pipeline worker) runs two experiments on the local engine:
1. latency: one replica prints `LAT <time.time()>` lines at a steady rate; one SSE client
   (`GET /api/experiments/{id}/logs/stream`) and one `tail -F` of the engine's interleaved file
   (`runs/<workload>/logs/all.log`) follow it; each line's latency is its arrival time minus the
   time printed in it (one machine, one clock);
2. throughput: 4 replicas print as fast as they can; lines per second at the SSE client and at
   `tail -F`, between the first and the last line each received.

Usage: .venv/bin/python -m bench.logs [--rate 200] [--seconds 10] [--lines 100000] [--write-docs]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import signal
import statistics
import subprocess
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

from aichor.operators.base import short_name
from bench.api import EMAIL, MANIFEST, PASSWORD, start_server
from bench.machine import describe_machine, write_section

LATENCY = (
    "import time; time.sleep(2)\n"
    "for i in range({count}):\n"
    "    print(f'LAT {{time.time():.6f}}', flush=True)\n"
    "    time.sleep({gap})\n"
)
FLOOD = (
    "import sys, time; time.sleep(2); w = sys.stdout.write\n"
    "for i in range({count}): w(f'FLOOD {{i}}\\n')\n"
)
Arrival = tuple[float, str]
FOLLOWERS = (
    ("sse", "SSE client (`/logs/stream`)"),
    ("store", "`tail -F` of the store's `replicas.log` (ingested)"),
    ("engine", "`tail -F` of the engine's `all.log` (baseline)"),
)


def submit(client: httpx.Client, program: str, *, replicas: int) -> str:
    """An archive experiment running `program` in `replicas` workers."""
    files = {
        "manifest.yaml": MANIFEST.format(command="python prog.py", count=replicas, cpus=0.25),
        "Dockerfile": "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\n",
        "prog.py": program,
    }
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    response = client.post(
        "/api/projects/default/experiments",
        data={"manifest_path": "manifest.yaml"},
        files={"archive": ("a.tar.gz", buffer.getvalue(), "application/gzip")},
    )
    response.raise_for_status()
    return str(response.json()["id"])


def follow_sse(
    base: str, token: str, experiment_id: str, keep: Callable[[str], bool]
) -> Iterator[Arrival]:
    """(arrival time, text) of every kept line the SSE stream delivers, until its end."""
    headers = {"Authorization": token}
    url = f"{base}/api/experiments/{experiment_id}/logs/stream"
    with (
        httpx.Client(timeout=httpx.Timeout(10, read=120), headers=headers) as client,
        client.stream("GET", url) as response,
    ):
        response.raise_for_status()
        event = ""
        for line in response.iter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                now = time.time()
                if event == "end":
                    return
                for _stamp, _source, text in json.loads(line[6:])["lines"]:
                    if keep(text):
                        yield now, text


def follow_tail(path: Path, keep: Callable[[str], bool], stop: threading.Event) -> list[Arrival]:
    """`tail -F` of the engine's file from its first line: the baseline follower."""
    tail = subprocess.Popen(
        ["tail", "-F", "-n", "+1", "-s", "0.01", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    arrivals: list[Arrival] = []
    reader = threading.Thread(target=_read_tail, args=(tail, keep, arrivals), daemon=True)
    reader.start()
    stop.wait()
    time.sleep(0.5)  # let tail pass on what the file still holds
    os.killpg(tail.pid, signal.SIGTERM)
    tail.wait()
    reader.join(5)
    return arrivals


def _read_tail(
    tail: subprocess.Popen[bytes], keep: Callable[[str], bool], arrivals: list[Arrival]
) -> None:
    assert tail.stdout is not None
    for raw in tail.stdout:
        text = raw.decode(errors="replace").rstrip("\n").split("\t", 2)[-1]
        if keep(text):
            arrivals.append((time.time(), text))


def run_all(
    base: str, token: str, home: Path, experiment_id: str, keep: Callable[[str], bool]
) -> dict[str, list[Arrival]]:
    """Arrivals at the SSE client, at `tail -F` of the store's file (what was ingested) and at
    `tail -F` of the engine's file (the baseline), for one experiment followed by all three."""
    files = {
        "engine": home / "runs" / short_name(experiment_id) / "logs" / "all.log",
        "store": home / "logs" / experiment_id / "replicas.log",
    }
    stop = threading.Event()
    results: dict[str, list[Arrival]] = {}
    tailers = [
        threading.Thread(
            target=lambda k=key, f=path: results.__setitem__(k, follow_tail(f, keep, stop)),
            daemon=True,
        )
        for key, path in files.items()
    ]
    for tailer in tailers:
        tailer.start()
    results["sse"] = list(follow_sse(base, token, experiment_id, keep))
    stop.set()
    for tailer in tailers:
        tailer.join(30)
    return results


def latencies(arrivals: list[Arrival]) -> list[float]:
    return [(arrived - float(text.split()[1])) * 1000 for arrived, text in arrivals]


def rate(arrivals: list[Arrival]) -> float:
    if len(arrivals) < 2:
        return 0.0
    return (len(arrivals) - 1) / max(arrivals[-1][0] - arrivals[0][0], 1e-9)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * share), len(ordered) - 1)]


def measure(rate_per_s: int, seconds: int, flood_lines: int) -> dict[str, float]:
    home = Path(tempfile.mkdtemp(prefix="aichor-bench-logs-"))
    server, base = start_server(home, f"sqlite:///{home / 'aichor.db'}")
    try:
        with httpx.Client(base_url=base, timeout=60) as client:
            login = client.post("/api/auth/login", json={"email": EMAIL, "password": PASSWORD})
            login.raise_for_status()
            token = f"Bearer {login.json()['token']}"
            client.headers["Authorization"] = token
            count = rate_per_s * seconds
            program = LATENCY.format(count=count, gap=1 / rate_per_s)
            exp = submit(client, program, replicas=1)
            latency = run_all(base, token, home, exp, lambda t: t.startswith("LAT "))
            per_replica = flood_lines // 4
            flood = submit(client, FLOOD.format(count=per_replica), replicas=4)
            flood_runs = run_all(base, token, home, flood, lambda t: t.startswith("FLOOD "))
        result: dict[str, float] = {"lines": count, "flood_lines": per_replica * 4}
        for follower in ("sse", "store", "engine"):
            milliseconds = latencies(latency.get(follower, []))
            result[f"{follower}_received"] = len(milliseconds)
            result[f"{follower}_p50"] = statistics.median(milliseconds or [float("nan")])
            result[f"{follower}_p99"] = percentile(milliseconds or [float("nan")], 0.99)
            result[f"{follower}_flood"] = len(flood_runs.get(follower, []))
            result[f"{follower}_rate"] = rate(flood_runs.get(follower, []))
        return result
    finally:
        server.terminate()
        server.wait(30)
        shutil.rmtree(home, ignore_errors=True)


def render(result: dict[str, float], rate_per_s: int, seconds: int) -> str:
    load = "/".join(f"{value:.2f}" for value in os.getloadavg())
    p99_verdict = (
        "met" if result["sse_p99"] < 250 else f"missed by {result['sse_p99'] - 250:.0f} ms"
    )
    rate_verdict = (
        "met"
        if result["store_rate"] >= 50_000
        else f"missed by {50_000 - result['store_rate']:,.0f} lines/s"
    )
    return (
        "## Logs (`bench/logs.py`)\n\n"
        f"{describe_machine()} Load average after the run (1/5/15 min): {load}; other work "
        "shared the 2 cores.\n\n"
        f"Latency: one replica prints {result['lines']:.0f} lines at {rate_per_s}/s for "
        f"{seconds} s, each carrying its print time; followed at once by an SSE client of the "
        "server, by `tail -F -s 0.01` of the store's file (what the server ingested) and by "
        "`tail -F -s 0.01` of the engine's output file of the same run (the baseline). "
        f"Throughput: 4 replicas print {result['flood_lines']:,.0f} lines as fast as they "
        "can; lines/s between the first and the last line each follower received.\n\n"
        "| follower | lines received | latency p50 | latency p99 | flood lines received "
        "| lines/s |\n|---|---|---|---|---|---|\n"
        + "".join(
            f"| {label} | {result[f'{key}_received']:.0f} | {result[f'{key}_p50']:.1f} ms "
            f"| {result[f'{key}_p99']:.1f} ms | {result[f'{key}_flood']:,.0f} "
            f"| {result[f'{key}_rate']:,.0f} |\n"
            for key, label in FOLLOWERS
        )
        + "\n"
        f"Targets: p99 < 250 ms at the SSE client ({p99_verdict}); ≥ 50,000 lines/s "
        f"ingested into the store ({rate_verdict}).\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=int, default=200, help="lines per second (latency run)")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--lines", type=int, default=400_000, help="lines of the flood, total")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    result = measure(args.rate, args.seconds, args.lines)
    text = render(result, args.rate, args.seconds)
    print(text)
    if args.write_docs:
        write_section("logs", text)


if __name__ == "__main__":
    main()
