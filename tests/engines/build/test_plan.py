"""Replaying a Dockerfile: notes for skipped lines, requirements discovery, stages, paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from aichor.engines.local.build import build_image
from aichor.engines.local.build.dockerfile import parse
from aichor.engines.local.build.plan import BuildPlan, make_plan
from aichor.errors import InvalidInput, NotFound
from tests.engines.build.conftest import WriteRepo, request_for


def plan_of(repo: Path, *, target: str | None = None, **build_args: str) -> BuildPlan:
    parsed = parse((repo / "Dockerfile").read_text(), build_args=build_args)
    return make_plan(parsed, context=repo, build_args=build_args, target=target)


def test_skipped_and_noted_lines_are_reported(write_repo: WriteRepo) -> None:
    repo = write_repo({
        "Dockerfile": "FROM python:3.11\nRUN apt-get update && apt-get install -y git\n"
        "ADD https://example.invalid/data.tgz /data/\nCOPY --chown=1:1 a.txt /a.txt\n"
        "USER nobody\nEXPOSE 8080\nCMD python main.py\n",
        "a.txt": "a",
    })  # fmt: skip
    notes = "\n".join(plan_of(repo).notes)
    for expected in ("line 2: RUN `apt-get update` skipped", "`apt-get install -y git` skipped",
                     "line 3: ADD https://example.invalid/data.tgz: remote sources",
                     "line 4: COPY --chown", "line 5: USER nobody", "line 6: EXPOSE 8080",
                     "line 7: CMD python main.py"):  # fmt: skip
        assert expected in notes


def test_requirements_are_found_through_the_copies_and_workdir(write_repo: WriteRepo) -> None:
    repo = write_repo({
        "Dockerfile": "FROM python:3.11\nARG EXTRA=idna\nWORKDIR /app\nCOPY deps/ ./deps/\n"
        "RUN pip install -r deps/requirements.txt ${EXTRA} && cd deps && "
        "pip install -c c.txt six\n",
        "deps/requirements.txt": "six\n",
        "deps/c.txt": "six<2\n",
    })  # fmt: skip
    first, second = plan_of(repo).steps
    assert first.args == ("-r", str(repo / "deps/requirements.txt"), "idna")
    assert first.files == (repo / "deps/requirements.txt",)
    assert second.args == ("-c", str(repo / "deps/c.txt"), "six")


def test_uv_sync_uses_the_copied_project(write_repo: WriteRepo) -> None:
    repo = write_repo({
        "Dockerfile": "FROM python:3.11-slim\nWORKDIR /app\nCOPY pyproject.toml uv.lock ./\n"
        "RUN uv sync --frozen --no-dev\n",
        "pyproject.toml": "[project]\nname='p'\nversion='0'\n",
        "uv.lock": "version = 1\n",
    })  # fmt: skip
    (step,) = plan_of(repo).steps
    assert (step.kind, step.args, step.image_dir) == ("sync", ("--frozen", "--no-dev"), "/app")
    assert step.files == (repo / "pyproject.toml", repo / "uv.lock")


def test_a_requirement_not_copied_before_the_run_is_an_error(write_repo: WriteRepo) -> None:
    repo = write_repo({"Dockerfile": "FROM python:3.11\nRUN pip install -r req.txt\n",
                       "req.txt": "six\n"})  # fmt: skip
    with pytest.raises(InvalidInput, match=r"line 2: /req.txt is not in the image"):
        plan_of(repo)


MULTI = """\
FROM python:3.11 AS deps
COPY req.txt /r/req.txt
RUN pip install -r /r/req.txt
FROM deps AS test
RUN pip install pytest
FROM python:3.11-slim AS final
COPY --from=deps /r/req.txt /app/
COPY --from=deps /venv /venv
ENV STAGE=final
"""


def test_target_selects_a_stage_and_its_ancestors(write_repo: WriteRepo) -> None:
    repo = write_repo({"Dockerfile": MULTI, "req.txt": "six\n"})
    test_plan = plan_of(repo, target="test")
    assert [step.args[-1] for step in test_plan.steps] == [str(repo / "req.txt"), "pytest"]
    assert "STAGE" not in test_plan.env
    final = plan_of(repo)
    assert [step.args for step in final.steps] == [("-r", str(repo / "req.txt"))]
    assert final.env["STAGE"] == "final"
    assert ("/app/req.txt", repo / "req.txt") in [(op.dest, op.source) for op in final.copies]
    assert any("--from=deps /venv: made by a RUN" in note for note in final.notes)
    with pytest.raises(InvalidInput, match="not a stage"):
        plan_of(repo, target="nope")


def test_context_or_dockerfile_outside_the_repository_is_rejected(
    write_repo: WriteRepo, tmp_path: Path
) -> None:
    repo = write_repo({"Dockerfile": "FROM python:3.11\n"})
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "Dockerfile").write_text("FROM python:3.11\n")
    (repo / "link").symlink_to(tmp_path / "outside")
    cases = [
        ({"context_dir": repo / ".."}, "builder.context"),
        ({"dockerfile": Path("/etc/hostname")}, "builder.dockerfile"),
        ({"dockerfile": repo / "link" / "Dockerfile"}, "builder.dockerfile"),
        ({"context_dir": Path("link")}, "builder.context"),
    ]
    for changes, field in cases:
        with pytest.raises(InvalidInput) as caught:
            build_image(request_for(repo, **changes), cache_dir=tmp_path / "c", on_log=print)
        assert caught.value.field == field


def test_missing_dockerfile_names_the_path(write_repo: WriteRepo, tmp_path: Path) -> None:
    repo = write_repo({"README.md": "x"})
    with pytest.raises(NotFound, match=r"repo/Dockerfile does not exist"):
        build_image(request_for(repo), cache_dir=tmp_path / "c", on_log=print)
