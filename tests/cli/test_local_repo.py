"""`aichor local-repo init`: the generated repository validates and runs as-is with `aichor run`."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from aichor.cli.local_repo import PROFILES
from aichor.cli.local_repo_templates import OPERATORS
from aichor.manifest import load_manifest_file
from tests.conftest import EXAMPLES

LAYOUT = {
    "Dockerfile",
    "README.md",
    "pyproject.toml",
    ".gitignore",
    "aichor_manifests/manifest.yaml",
    "src/{package}/__init__.py",
    "src/{package}/main.py",
}


def generated(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("profile", list(PROFILES))
@pytest.mark.parametrize("operator", list(OPERATORS))
def test_every_operator_and_profile_gives_the_layout_and_a_valid_manifest(
    run_cli, tmp_path: Path, operator: str, profile: str
) -> None:
    target = tmp_path / "repo"
    result = run_cli(
        "local-repo", "init", str(target), "--operator", operator, "--profile", profile,
        "--name", "my-exp", "--yes",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert generated(target) == {p.format(package="my_exp") for p in LAYOUT}
    manifest = load_manifest_file(target / "aichor_manifests/manifest.yaml")
    assert manifest.spec.operator == operator
    assert manifest.spec.command == "python -m my_exp.main"
    dockerfile = (target / "Dockerfile").read_text()
    assert "uv pip install" in dockerfile and 'CMD ["python", "-m", "my_exp.main"]' in dockerfile
    gpus = "accelerators:" in (target / "aichor_manifests/manifest.yaml").read_text()
    assert gpus == (profile == "gpu")


@pytest.mark.parametrize("operator", ["jobset", "pytorch", "jax", "xgboost", "kuberay"])
def test_dependencies_are_the_examples_pins(tmp_path: Path, run_cli, operator: str) -> None:
    run_cli("local-repo", "init", str(tmp_path / "r"), "--operator", operator, "--yes")
    project = tomllib.loads((tmp_path / "r/pyproject.toml").read_text())["project"]
    example = EXAMPLES / operator
    if (example / "requirements.txt").is_file():
        lines = (example / "requirements.txt").read_text().splitlines()
        pins = [line for line in lines if line and not line.startswith("#")]
    else:
        pins = tomllib.loads((example / "pyproject.toml").read_text())["project"]["dependencies"]
    if operator == "kuberay":  # the example takes ray from its base image
        pins = ["ray[default]==2.60.0"]
    assert project["dependencies"] == pins


def test_interactive_prompts_and_default_directory(tmp_path: Path, aichor_env) -> None:
    import subprocess

    from tests.conftest import AICHOR

    proc = subprocess.run(
        [str(AICHOR), "local-repo", "init"],
        input="pytorch\nmedium\nresnet-demo\n",
        cwd=tmp_path, env=aichor_env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "Operator" in proc.stdout and "Resource profile" in proc.stdout
    manifest = load_manifest_file(tmp_path / "resnet-demo/aichor_manifests/manifest.yaml")
    assert manifest.spec.operator == "pytorch"
    assert "cpus: 2" in (tmp_path / "resnet-demo/aichor_manifests/manifest.yaml").read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--operator", "slurm"], "aichor: error: --operator 'slurm': expected one of jobset,"),
        (["--profile", "huge"], "aichor: error: --profile 'huge': expected one of small,"),
        (["--name", "Bad Name"], "aichor: error: project name 'Bad Name': lowercase letters"),
    ],
)
def test_bad_flags_are_one_line(run_cli, tmp_path: Path, args: list[str], message: str) -> None:
    result = run_cli("local-repo", "init", str(tmp_path / "r"), "--yes", *args)
    assert result.returncode == 1
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1
    assert not (tmp_path / "r").exists()


def test_never_overwrites(run_cli, tmp_path: Path) -> None:
    (tmp_path / "r").mkdir()
    (tmp_path / "r/Dockerfile").write_text("FROM mine\n")
    result = run_cli("local-repo", "init", str(tmp_path / "r"), "--yes")
    assert result.returncode == 1 and "already exists" in result.stderr
    assert result.stderr.count("\n") == 1
    assert (tmp_path / "r/Dockerfile").read_text() == "FROM mine\n"
    assert not (tmp_path / "r/README.md").exists()


def test_generated_jobset_runs_as_is(run_cli, tmp_path: Path) -> None:
    run_cli("local-repo", "init", str(tmp_path / "jobs"), "--operator", "jobset", "--yes")
    result = run_cli("run", str(tmp_path / "jobs"))
    assert result.returncode == 0, result.stdout + result.stderr
    for job in range(2):
        for completion in range(2):
            assert f"JOBSET type=worker job={job} completion={completion}" in result.stdout


@pytest.mark.slow
def test_generated_pytorch_runs_as_is(run_cli, tmp_path: Path) -> None:
    run_cli("local-repo", "init", str(tmp_path / "ddp"), "--operator", "pytorch", "--yes")
    result = run_cli("run", str(tmp_path / "ddp"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "RANK 0 ALLREDUCE 3.0 EXPECTED 3.0" in result.stdout
    assert "RANK 1 ALLREDUCE 3.0 EXPECTED 3.0" in result.stdout
