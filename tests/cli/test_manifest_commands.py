"""`aichor manifest validate|schema`: output, exit codes, one line per problem, no traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema  # type: ignore[import-untyped]  # no stubs in the dev group
from typer.testing import CliRunner

from aichor.cli.manifest_commands import app
from aichor.errors import InvalidInput

EXAMPLES = Path(__file__).parents[1] / "manifest" / "examples"
AICHOR = Path(sys.executable).parent / "aichor"
runner = CliRunner()

BROKEN = """\
kind: AIchorManifest
apiVersion: 0.2.3
builder: {image: app}
spec:
  operator: pytorch
  image: app
  comand: python main.py
  types: {Worker: {count: 0}}
"""


def test_validate_ok_lists_operator_and_replicas() -> None:
    result = runner.invoke(
        app, ["validate", str(EXAMPLES / "xgboost.yaml"), str(EXAMPLES / "jobset.yaml")]
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"{EXAMPLES / 'xgboost.yaml'}: ok (xgboost, 3 replicas)",
        f"{EXAMPLES / 'jobset.yaml'}: ok (jobset, 101 replicas)",
    ]


def test_validate_reports_every_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BROKEN)
    result = runner.invoke(app, ["validate", str(bad), str(EXAMPLES / "minimal.yaml")])
    assert isinstance(result.exception, InvalidInput)
    assert result.exception.message == "1 of 2 manifest(s) invalid"
    assert f"{bad}:4: spec.command: required" in result.output
    assert f"{bad}:7: spec.comand: unknown field; did you mean 'command'?" in result.output
    assert f"{bad}:8: spec.types.Worker.count: must be ≥ 1" in result.output
    assert f"{EXAMPLES / 'minimal.yaml'}: ok (jax, 1 replica)" in result.output


def test_schema_prints_json_schema(tmp_path: Path) -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.output)
    jsonschema.Draft202012Validator.check_schema(schema)
    out = tmp_path / "manifest.schema.json"
    assert runner.invoke(app, ["schema", "--output", str(out)]).exit_code == 0
    assert json.loads(out.read_text()) == schema
    markdown = runner.invoke(app, ["schema", "--format", "markdown"])
    assert markdown.output.startswith("# Manifest reference")


def _aichor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(AICHOR), "manifest", *args], capture_output=True, text=True, timeout=60
    )


def test_console_script_exit_codes_and_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BROKEN)
    ok = _aichor("validate", str(EXAMPLES / "minimal.yaml"))
    assert (ok.returncode, ok.stderr) == (0, "")
    failed = _aichor("validate", str(bad), str(tmp_path / "missing.yaml"))
    assert failed.returncode == 1
    assert "Traceback" not in failed.stderr
    lines = failed.stderr.splitlines()
    assert lines[-1] == "aichor: error: 2 of 2 manifest(s) invalid"
    assert f"{tmp_path / 'missing.yaml'}: file not found" in lines
    assert all(line.startswith((str(bad), str(tmp_path), "aichor: error:")) for line in lines)
    unwritable = _aichor("schema", "--output", str(tmp_path / "no" / "such" / "dir.json"))
    assert unwritable.returncode == 1
    assert (
        unwritable.stderr.startswith("aichor: error: ") and len(unwritable.stderr.splitlines()) == 1
    )
