# ruff: noqa: S105 - test credentials
"""`aichor experiments`: what `submit local` packs (uncommitted and untracked files in, ignored
files, .git and escaping links out), its offline errors, and the whole flow against a real
`aichor server`: submit by archive and by commit SHA, follow to Succeeded, read logs and steps.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from aichor.cli.archive import pack_tree, tracked_files
from tests.client.live_server import LiveServer, start_server
from tests.db.databases import postgres_database


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@t", "-c", "user.name=t", *args],
        cwd=repo, check=True, capture_output=True,
    )  # fmt: skip


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


TREE = {
    ".gitignore": "*.log\n/build/\ndata/\n!keep.log\n",
    "main.py": "print('committed')\n",
    "aichor_manifests/manifest.yaml": "kind: AIchorManifest\n",
    "src/pkg/__init__.py": "",
    "src/pkg/.gitignore": "secret.txt\n",
    "src/pkg/secret.txt": "no\n",
    "src/build/keep.py": "not anchored: kept\n",
    "build/out.bin": "ignored\n",
    "data/big.csv": "ignored\n",
    "run.log": "ignored\n",
    "keep.log": "negated: kept\n",
}
EXPECTED = {
    ".gitignore",
    "main.py",
    "aichor_manifests/manifest.yaml",
    "src/pkg/__init__.py",
    "src/pkg/.gitignore",
    "src/build/keep.py",
    "keep.log",
}


def test_git_repo_includes_uncommitted_and_untracked_files(tmp_path: Path) -> None:
    write(tmp_path, TREE)
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".gitignore", "main.py", "aichor_manifests", "src/pkg/__init__.py")
    git(tmp_path, "commit", "-q", "-m", "first")
    (tmp_path / "main.py").write_text("print('edited, not committed')\n")
    write(tmp_path, {"new_untracked.py": "x = 1\n"})
    archive = pack_tree(tmp_path)
    with archive.file, tarfile.open(fileobj=archive.file, mode="r:gz") as tar:
        names = set(tar.getnames())
        main = tar.extractfile("main.py")
        assert main is not None and main.read() == b"print('edited, not committed')\n"
    assert names == EXPECTED | {"new_untracked.py"}
    assert not any(name.startswith(".git/") for name in names)


def test_without_git_the_walk_applies_gitignore_files(tmp_path: Path) -> None:
    write(tmp_path, TREE)
    (tmp_path / ".git").mkdir()  # a stray folder that is not a repository: never packed
    (tmp_path / ".git/config").write_text("x")
    assert set(tracked_files(tmp_path)) - {".git/config"} == EXPECTED
    assert ".git/config" not in tracked_files(tmp_path)


def test_walk_patterns(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            ".gitignore": "**/cache/\n*.py[co]\nnotes/*.md\n!notes/README.md\n",
            "a/b/cache/x": "",
            "a/mod.pyc": "",
            "a/mod.py": "",
            "notes/todo.md": "",
            "notes/README.md": "",
            "notes/sub/deep.md": "",
        },
    )
    assert tracked_files(tmp_path) == [
        ".gitignore",
        "a/mod.py",
        "notes/README.md",
        "notes/sub/deep.md",
    ]


def test_links_inside_are_kept_as_links_and_escaping_ones_left_out(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    write(root, {"real.txt": "hi\n", "aichor_manifests/manifest.yaml": ""})
    write(tmp_path, {"outside/secret.txt": "secret\n"})
    (root / "inner").symlink_to("real.txt")
    (root / "escape").symlink_to(tmp_path / "outside/secret.txt")
    (root / "escape_dir").symlink_to(tmp_path / "outside")
    skipped: list[str] = []
    archive = pack_tree(root, on_skip=skipped.append)
    with archive.file, tarfile.open(fileobj=archive.file, mode="r:gz") as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert set(members) == {"real.txt", "aichor_manifests/manifest.yaml", "inner"}
    assert members["inner"].issym() and members["inner"].linkname == "real.txt"
    assert sorted(skipped) == [
        "escape: symbolic link pointing outside the directory",
        "escape_dir: symbolic link pointing outside the directory",
    ]


@pytest.fixture
def logged_in_to_nowhere(aichor_env: dict[str, str], tmp_path: Path) -> None:
    aichor_env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")
    aichor_env["AICHOR_URL"] = "http://127.0.0.1:9"  # discard port: nothing listens
    aichor_env["AICHOR_TOKEN"] = "t"


@pytest.mark.usefixtures("logged_in_to_nowhere")
@pytest.mark.parametrize(
    ("manifest", "error"),
    [
        ("missing.yaml", "aichor_manifests/missing.yaml: no such manifest"),
        ("../outside.yaml", "manifest path '../outside.yaml' must be relative and stay inside"),
    ],
)
def test_submit_local_checks_the_manifest_before_packing(
    run_cli, tmp_path: Path, manifest: str, error: str
) -> None:
    write(tmp_path / "repo", {"aichor_manifests/manifest.yaml": ""})
    result = run_cli("experiments", "submit", "local", str(tmp_path / "repo"), "-m", manifest)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("aichor: error: ") and result.stderr.count("\n") == 1
    assert error in result.stderr


@pytest.mark.usefixtures("logged_in_to_nowhere")
def test_submit_local_to_a_dead_server_is_one_line(run_cli, tmp_path: Path) -> None:
    write(tmp_path / "repo", {"aichor_manifests/manifest.yaml": "", "main.py": ""})
    result = run_cli(
        "experiments", "submit", "local", str(tmp_path / "repo"),
        "-m", "aichor_manifests/manifest.yaml",
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr == (
        "aichor: error: cannot reach the aichor server at http://127.0.0.1:9: "
        "is `aichor server` running?\n"
    )


@pytest.mark.usefixtures("logged_in_to_nowhere")
def test_logs_flags_are_exclusive(run_cli) -> None:
    result = run_cli("experiments", "logs", "x", "--replica", "a", "--step", "Building")
    assert (result.returncode, result.stderr) == (
        1,
        "aichor: error: --replica and --step are exclusive\n",
    )


# -- against a real server ----------------------------------------------------------------------
@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The same CLI journeys against the embedded default and against PostgreSQL."""
    root = tmp_path_factory.mktemp("experiments-server")
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(postgres_database()) if request.param == "postgresql" else None
        for live in start_server(root, url):
            live.login()
            yield live


@pytest.fixture(scope="module")
def repo(server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A committed jobset repository (python:3.11-slim, standard library) from local-repo init."""
    root = tmp_path_factory.mktemp("repo") / "demo"
    init = server.cli("local-repo", "init", str(root), "--operator", "jobset", "--yes")
    assert init.returncode == 0, init.stderr
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "aichor[manifest.yaml]: first")
    return root


def submitted(result) -> str:  # type: ignore[no-untyped-def]
    assert result.returncode == 0, result.stdout + result.stderr
    payload = json.loads(result.stdout)  # stdout is exactly one JSON object (for jq)
    return str(payload["experiment_id"])


def test_submit_local_with_uncommitted_changes_to_succeeded(server: LiveServer, repo: Path) -> None:
    main = repo / "src/demo/main.py"
    committed = main.read_text()
    main.write_text(
        committed.replace("    return 0\n", '    print("UNCOMMITTED EDIT")\n    return 0\n')
    )
    try:
        result = server.cli("experiments", "submit", "local", "--watch", cwd=repo)
    finally:
        main.write_text(committed)
    exp_id = submitted(result)
    assert f"experiment {exp_id} Succeeded" in result.stderr
    assert "Completed Succeeded" in result.stderr

    logs = server.cli("experiments", "logs", exp_id)
    assert logs.returncode == 0, logs.stderr
    assert logs.stdout.count("UNCOMMITTED EDIT") == 4
    for job in range(2):
        for completion in range(2):
            assert f"JOBSET type=worker job={job} completion={completion}" in logs.stdout

    saved = server.home.parent / f"{exp_id}.log"
    download = server.cli("experiments", "logs", exp_id, "--download", str(saved))
    assert download.returncode == 0 and f"to {saved}" in download.stderr, download.stderr
    rows = [row.split("\t", 2) for row in saved.read_text().splitlines()]
    assert [f"[{source}] {text}" for _, source, text in rows] == logs.stdout.splitlines()

    one = server.cli("experiments", "logs", exp_id, "--replica", "worker-1-0")
    assert one.stdout.splitlines()[0] == "JOBSET type=worker job=1 completion=0", one.stderr
    build = server.cli("experiments", "logs", exp_id, "--step", "Building")
    assert build.returncode == 0 and "skipped" in build.stdout

    steps = json.loads(server.cli("experiments", "step", exp_id, "--json").stdout)
    assert [s["step"] for s in steps] == [
        "Waiting", "Cloning", "Building", "Submitting", "Running", "Completed",
    ]  # fmt: skip
    assert {s["status"] for s in steps} == {"Succeeded"}
    status = json.loads(server.cli("experiments", "status", exp_id, "--json").stdout)
    assert (status["status"], status["source_kind"]) == ("Succeeded", "archive")
    assert status["manifest_path"] == "aichor_manifests/manifest.yaml"
    listed = json.loads(server.cli("experiments", "list", "--json").stdout)
    assert exp_id in [item["id"] for item in listed["items"]]
    table = server.cli("experiments", "status", exp_id)
    assert table.returncode == 0 and "Succeeded" in table.stdout


def test_submit_commit_sha_to_succeeded(server: LiveServer, repo: Path) -> None:
    project = server.cli(
        "projects", "create", "demo-repo", "--repository-url", str(repo), "--engine", "local",
        "--default-engine", "local", "--json",
    )  # fmt: skip
    assert project.returncode == 0, project.stderr
    sha = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()
    result = server.cli(
        "experiments", "submit", "commit-sha", sha, "--branch", "main", "-p", "demo-repo",
        "--watch",
    )  # fmt: skip
    exp_id = submitted(result)
    status = json.loads(server.cli("experiments", "status", exp_id, "--json").stdout)
    assert (status["status"], status["commit_sha"], status["branch"]) == ("Succeeded", sha, "main")
    logs = server.cli("experiments", "logs", exp_id, "--follow")
    assert logs.stdout.count("DONE type=worker") == 4
    clone = server.cli("experiments", "logs", exp_id, "--step", "Cloning")
    assert clone.returncode == 0 and clone.stdout.strip()


def test_a_failing_experiment_exits_non_zero_with_one_line(
    server: LiveServer, repo: Path, tmp_path: Path
) -> None:
    failing = tmp_path / "failing"
    subprocess.run(["cp", "-r", str(repo), str(failing)], check=True)
    manifest = failing / "aichor_manifests/manifest.yaml"
    manifest.write_text(
        manifest.read_text().replace("python -m demo.main", 'python -c "raise SystemExit(3)"')
    )
    result = server.cli("experiments", "submit", "local", "--watch", cwd=failing)
    exp_id = json.loads(result.stdout)["experiment_id"]
    assert result.returncode != 0
    last = result.stderr.splitlines()[-1]
    assert last.startswith(f"aichor: error: experiment {exp_id} Failed: ")
    cancel = server.cli("experiments", "cancel", exp_id)
    assert cancel.returncode == 1 and cancel.stderr.count("\n") == 1

    replicas = server.cli("experiments", "replicas", exp_id)
    assert replicas.returncode == 0, replicas.stderr
    assert replicas.stdout.startswith("failed first ")  # then the replica and the reason
    listed = json.loads(server.cli("experiments", "replicas", exp_id, "--json").stdout)
    first = [r for r in listed["replicas"] if r["failed_first"]]
    assert [r["name"] for r in first] == [listed["failed_replica"]]
    assert first[0]["exit_code"] == 3 and first[0]["reason"] == "exited with code 3"
    assert listed["failed_replica"] in replicas.stdout
    metrics = json.loads(server.cli("experiments", "metrics", exp_id, "--json").stdout)
    assert metrics["experiment_id"] == exp_id and metrics["interval_seconds"] == 5.0
    assert server.cli("experiments", "metrics", exp_id).returncode == 0
    unknown = server.cli("experiments", "metrics", exp_id, "--replica", "nope-9")
    assert unknown.returncode == 1 and "no replica 'nope-9'" in unknown.stderr

    again = submitted(server.cli("experiments", "resubmit", exp_id))
    assert again != exp_id
    status = json.loads(server.cli("experiments", "status", again, "--json").stdout)
    assert status["resubmitted_from"] == exp_id


def test_unknown_experiment_and_project_are_one_line(server: LiveServer, repo: Path) -> None:
    for args in (
        ["experiments", "status", "00000000-0000-0000-0000-000000000000"],
        ["experiments", "list", "-p", "no-such-project"],
        ["experiments", "submit", "local", "-p", "no-such-project"],
        ["experiments", "logs", "00000000-0000-0000-0000-000000000000", "--follow"],
        ["experiments", "logs", "00000000-0000-0000-0000-000000000000", "--download", "x.log"],
    ):
        result = server.cli(*args, cwd=repo)
        assert result.returncode == 1, args
        assert result.stderr.startswith("aichor: error: ") and result.stderr.count("\n") == 1
        assert "not found" in result.stderr
    assert not (repo / "x.log").exists()
