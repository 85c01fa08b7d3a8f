"""Start-up latency of `aichor run`, against the same work done without aichor, in one run.

1. A one-pod jobset workload, environment cache warm: wall time from invoking the command to
   the workload's first output line. Compared with running the command directly (the floor)
   and, when installed, `mlflow run --env-manager local` of the same command.
2. A two-node kuberay workload: `aichor run` against the by-hand sequence
   `ray start --head`, `ray start --address`, `ray job submit`, `ray stop`.

Usage: .venv/bin/python -m bench.startup [--repeat N] [--write-docs]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.machine import describe_machine, write_section

ROOT = Path(__file__).resolve().parents[1]
WORKLOADS = ROOT / "bench" / "workloads"
AICHOR = Path(sys.executable).parent / "aichor"
RAY_VERSION = "2.60.0"
MARKER = "BENCH first line"


def timed(
    argv: Sequence[str], *, env: dict[str, str], cwd: Path | None = None
) -> tuple[float, float]:
    """(seconds to the first line containing MARKER, seconds to exit); raises on failure."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        list(argv), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=cwd, text=True
    )
    first: float | None = None
    output: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        output.append(line)
        if first is None and MARKER in line:
            first = time.perf_counter() - start
    code = proc.wait()
    total = time.perf_counter() - start
    if code != 0 or first is None:
        raise RuntimeError(f"{argv[0]} failed ({code}):\n{''.join(output[-30:])}")
    return first, total


def median_of(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def bench_jobset(env: dict[str, str], repeat: int) -> dict[str, object]:
    workload = WORKLOADS / "jobset-one"
    aichor = [str(AICHOR), "run", str(workload)]
    timed(aichor, env=env)  # warm the environment cache
    results: dict[str, object] = {
        "aichor run": median_of([timed(aichor, env=env) for _ in range(repeat)]),
        "direct": median_of(
            [
                timed([sys.executable, "-u", str(workload / "main.py")], env=env)
                for _ in range(repeat)
            ]
        ),
    }
    mlflow = mlflow_command()
    if mlflow:
        with tempfile.TemporaryDirectory() as tmp:
            project = Path(tmp)
            shutil.copy(workload / "main.py", project / "main.py")
            (project / "MLproject").write_text(
                "name: bench\nentry_points:\n  main:\n    command: python -u main.py\n"
            )
            mlflow_env = dict(
                env,
                MLFLOW_ALLOW_FILE_STORE="true",
                MLFLOW_TRACKING_URI=(project / "mlruns").as_uri(),
            )
            argv = [mlflow, "run", "--env-manager", "local", str(project)]
            results["mlflow run"] = median_of([timed(argv, env=mlflow_env) for _ in range(repeat)])
    else:
        results["mlflow run"] = "not installed"
    return results


def peer_env(name: str, requirement: str, executable: str) -> Path:
    """A virtualenv holding a peer tool (Ray, mlflow), made with uv and kept between runs."""
    venv = ROOT / ".cache" / "bench" / name
    if not (venv / "bin" / executable).exists():
        uv = str(Path(sys.executable).parent / "uv")
        subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True)
        python = str(venv / "bin" / "python")
        subprocess.run([uv, "pip", "install", "-q", "--python", python, requirement], check=True)
    return venv


def mlflow_command() -> str | None:
    """`mlflow` from PATH, else a bench-local mlflow-skinny; None when it cannot be installed."""
    found = shutil.which("mlflow")
    if found:
        return found
    try:
        return str(peer_env("mlflow", "mlflow-skinny", "mlflow") / "bin" / "mlflow")
    except subprocess.CalledProcessError:
        return None


def by_hand_ray(venv: Path, env: dict[str, str]) -> tuple[float, float]:
    """The sequence a user types, each command waited for, as timed from the first one."""
    ray = str(venv / "bin" / "ray")
    run_env = dict(env, PATH=f"{venv / 'bin'}:{env['PATH']}")
    temp_dir = tempfile.mkdtemp(prefix="rb", dir="/tmp")
    start = time.perf_counter()
    try:
        subprocess.run(
            [
                ray,
                "start",
                "--head",
                "--port=46379",
                "--dashboard-port=48265",
                "--num-cpus=1",
                '--resources={"head": 100000}',
                f"--temp-dir={temp_dir}",
                "--disable-usage-stats",
            ],
            env=run_env,
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [
                ray,
                "start",
                "--address=127.0.0.1:46379",
                "--num-cpus=1",
                '--resources={"cpu-workers": 100000}',
                "--disable-usage-stats",
            ],
            env=run_env,
            check=True,
            capture_output=True,
        )
        submit = [
            ray,
            "job",
            "submit",
            "--address=http://127.0.0.1:48265",
            "--",
            "python",
            "-u",
            str(WORKLOADS / "kuberay-two" / "main.py"),
        ]
        submitted_at = time.perf_counter() - start
        first, _ = timed(submit, env=run_env)
        elapsed_to_first = submitted_at + first
    finally:
        subprocess.run([ray, "stop", "--force"], env=run_env, capture_output=True, check=False)
        shutil.rmtree(temp_dir, ignore_errors=True)
    total = time.perf_counter() - start
    return elapsed_to_first, total


def bench_kuberay(env: dict[str, str], repeat: int) -> dict[str, object]:
    workload = WORKLOADS / "kuberay-two"
    aichor = [str(AICHOR), "run", str(workload)]
    timed(aichor, env=env)  # warm the environment cache
    venv = peer_env(f"ray-{RAY_VERSION}", f"ray[default]=={RAY_VERSION}", "ray")
    return {
        "aichor run": median_of([timed(aichor, env=env) for _ in range(repeat)]),
        "by hand": median_of([by_hand_ray(venv, env) for _ in range(repeat)]),
    }


WORKLOADS_BENCHED = {
    "jobset": ("jobset (1 pod)", bench_jobset, 1),
    "kuberay": ("kuberay (head + 1 worker)", bench_kuberay, 2),
}
"""name → (title, function, divisor of --repeat: kuberay's by-hand baseline takes ~1 min a run)."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--only", choices=sorted(WORKLOADS_BENCHED), help="one workload")
    parser.add_argument("--write-docs", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    env = dict(os.environ)
    env.setdefault("AICHOR_HOME", str(ROOT / ".cache" / "bench" / "home"))
    for key, (title, bench, divisor) in WORKLOADS_BENCHED.items():
        if args.only and key != args.only:
            continue
        repeat = max(1, args.repeat // divisor)
        rows = bench(env, repeat)
        print(json.dumps({title: rows}, indent=2, default=str))
        if args.write_docs:
            write_section(f"startup-{key}", render(title, rows, repeat))


def render(title: str, rows: dict[str, object], repeat: int) -> str:
    baseline_key = "direct" if "direct" in rows else "by hand"
    baseline = rows[baseline_key]
    lines = [
        f"## Start-up of `aichor run`, {title} (`bench/startup.py`)",
        "",
        describe_machine(),
        "",
        f"Median of {repeat} runs, environment cache warm: wall time from invoking the command "
        "to the workload's first output line, and to the command's exit.",
        "",
        "| how | first line (s) | to exit (s) | ratio to baseline (first line) |",
        "|---|---|---|---|",
    ]
    for how, value in rows.items():
        if isinstance(value, tuple) and isinstance(baseline, tuple):
            ratio = value[0] / baseline[0]
            cells = [how, f"{value[0]:.3f}", f"{value[1]:.3f}", f"{ratio:.2f}× {baseline_key}"]
            lines.append("| " + " | ".join(cells) + " |")
        else:
            lines.append(f"| {how} | {value} | | |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
