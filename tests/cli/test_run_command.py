"""`aichor run` as a user meets it: a real repository, a real build, real processes.

Bad input must give exactly one line on stderr, exit code 1 and no traceback.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

DOCKERFILE = """\
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends curl
WORKDIR /app
COPY main.py /app/main.py
"""

MAIN = """\
import os, sys
print("hello from job", os.environ["JOB_INDEX"], "of", os.environ["GLOBAL_REPLICAS"])
sys.exit(int(os.environ.get("EXIT_WITH", "0")))
"""


def manifest(
    *,
    command: str = "python3 -u /app/main.py",
    operator: str = "jobset",
    types: str = "worker:\n      count: 1\n      resources:\n        cpus: 1\n        ramRatio: 1",
    builder_extra: str = "",
    env: str = "",
) -> str:
    return textwrap.dedent(
        """\
        kind: AIchorManifest
        apiVersion: 0.2.3
        builder:
          image: demo
          dockerfile: ./Dockerfile
          context: .
        {builder_extra}
        spec:
          operator: {operator}
          image: demo
          command: "{command}"
        {env}
          types:
            {types}
        """
    ).format(
        operator=operator,
        command=command,
        types=types,
        builder_extra=textwrap.indent(builder_extra, "  ") if builder_extra else "",
        env=textwrap.indent(env, "  ") if env else "",
    )


def make_repo(root: Path, manifest_text: str, *, dockerfile: str | None = DOCKERFILE) -> Path:
    repo = root / "repo"
    (repo / "aichor_manifests").mkdir(parents=True)
    (repo / "aichor_manifests" / "manifest.yaml").write_text(manifest_text)
    (repo / "main.py").write_text(MAIN)
    if dockerfile is not None:
        (repo / "Dockerfile").write_text(dockerfile)
    return repo


def assert_one_line_error(result, *words: str) -> None:  # type: ignore[no-untyped-def]
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    for word in words:
        assert word in lines[0], lines[0]


def test_runs_a_repository_and_prefixes_lines_by_replica(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(tmp_path, manifest())
    result = run_cli("run", str(repo))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "worker-0-0 | hello from job 0 of 1" in result.stdout
    # The Dockerfile's apt-get line cannot run without a container: it is said, not hidden.
    assert "apt-get" in result.stdout
    assert "skip" in result.stdout.lower()


def test_exit_code_is_the_experiments(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(tmp_path, manifest(env='env:\n  EXIT_WITH: "3"'))
    result = run_cli("run", str(repo))
    assert result.returncode == 3, result.stdout + result.stderr
    assert "Failed" in result.stderr
    assert "worker-0-0" in result.stderr


def test_invalid_manifest_names_the_field(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(tmp_path, manifest(types="worker:\n      count: 0"))
    result = run_cli("run", str(repo))
    assert result.returncode == 1
    assert "spec.types.worker.count" in result.stderr
    assert "manifest.yaml:" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_manifest_file(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(tmp_path, manifest())
    result = run_cli("run", str(repo), "--manifest", "aichor_manifests/nope.yaml")
    assert_one_line_error(result, "nope.yaml")


def test_missing_dockerfile(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(tmp_path, manifest(), dockerfile=None)
    result = run_cli("run", str(repo))
    assert_one_line_error(result, "Dockerfile")


def test_build_context_outside_the_repository(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(tmp_path, manifest(builder_extra="").replace("context: .", "context: ../"))
    result = run_cli("run", str(repo))
    assert_one_line_error(result, "builder.context")


def test_unknown_command_in_the_environment(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(tmp_path, manifest(command="pythn -u /app/main.py"))
    result = run_cli("run", str(repo))
    assert_one_line_error(result, "spec.command", "pythn")


def test_ray_missing_from_the_environment(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    kuberay_types = (
        "Head:\n      resources:\n        cpus: 1\n"
        "    Workers:\n      - name: cpu-workers\n        count: 1\n"
        "        resources:\n          cpus: 1"
    )
    repo = make_repo(tmp_path, manifest(operator="kuberay", types=kuberay_types))
    result = run_cli("run", str(repo))
    assert_one_line_error(result, "ray")


@pytest.mark.parametrize("args", [["frobnicate"], ["run", "--no-such-flag"]])
def test_unknown_cli_command(args: list[str], run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(*args)
    assert_one_line_error(result)
