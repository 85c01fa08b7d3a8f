# ruff: noqa: S105 - test credentials
"""`aichor experiments`: what `submit local` packs (uncommitted and untracked files in, ignored
files, .git and escaping links out), and its offline errors. The server-backed flow (submit,
follow to Succeeded, logs, steps) is in test_experiments_server.py.
"""

from __future__ import annotations

import subprocess
import tarfile
from pathlib import Path

import pytest

from aichor.cli.archive import pack_tree, tracked_files


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
