"""Object keys and the local bucket backend: keys that could leave the bucket are refused by
name (even through a symlink planted in the bucket); bucket names are valid S3 names; the
replica variables carry the S3 endpoint and key only when S3 is used."""

from __future__ import annotations

from pathlib import Path

import pytest
from fsspec.implementations.local import LocalFileSystem

from aichor.errors import InvalidInput, NotFound
from aichor.experiment_env import ExperimentFacts, S3Access, platform_env
from aichor.storage.buckets import BucketStore
from aichor.storage.keys import bucket_name, check_key, check_prefix

BAD_KEYS = {
    "../x": "traversal",
    "a/../../x": "traversal",
    "./x": "traversal",
    "/etc/passwd": "absolute",
    "C:/x": "absolute",
    "a\\..\\x": "backslash",
    "a\x00b": "NUL",
    "a\nb": "control",
    "a//b": "empty segment",
    "dir/": "ends with '/'",
    "": "empty",
    "k" * 1025: "longer than 1024",
}


@pytest.mark.parametrize(("key", "why"), BAD_KEYS.items(), ids=list(range(len(BAD_KEYS))))
def test_bad_keys_are_refused_naming_the_key(key: str, why: str) -> None:
    with pytest.raises(InvalidInput) as error:
        check_key(key)
    assert why in error.value.message
    assert error.value.field == "key"
    if key:
        assert repr(key)[:40] in error.value.message


@pytest.mark.parametrize("key", ["a.txt", "data/train.csv", "run 1/ü.json", "x..y/.hidden"])
def test_ordinary_keys_pass(key: str) -> None:
    assert check_key(key) == key


def test_prefixes_may_end_in_a_slash_but_not_escape() -> None:
    assert check_prefix("") == "" and check_prefix("data/") == "data/"
    with pytest.raises(InvalidInput):
        check_prefix("../")


def _store(tmp_path: Path) -> BucketStore:
    store = BucketStore(LocalFileSystem(), tmp_path / "project")
    store.create_buckets("p-input")
    return store


def test_local_backend_round_trip_and_prunes_empty_folders(tmp_path: Path) -> None:
    store = _store(tmp_path)
    upload = tmp_path / "upload"
    upload.write_bytes(b"hello")
    info = store.put_file("p-input", "a/b/c.txt", upload)
    assert (info.key, info.size) == ("a/b/c.txt", 5)
    assert [o.key for o in store.list("p-input", "a/")] == ["a/b/c.txt"]
    assert b"".join(store.read_chunks("p-input", "a/b/c.txt")) == b"hello"
    store.delete("p-input", "a/b/c.txt")
    assert list((tmp_path / "project" / "p-input").iterdir()) == []
    with pytest.raises(NotFound, match=r"a/b/c\.txt"):
        store.stat("p-input", "a/b/c.txt")


def test_a_symlink_in_the_bucket_cannot_lead_outside(tmp_path: Path) -> None:
    store = _store(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("no")
    (tmp_path / "project" / "p-input" / "link").symlink_to(outside)
    with pytest.raises(InvalidInput, match="leaves bucket"):
        store.stat("p-input", "link/secret.txt")
    upload = tmp_path / "upload"
    upload.write_bytes(b"x")
    with pytest.raises(InvalidInput, match="leaves bucket"):
        store.put_file("p-input", "link/new.txt", upload)
    assert not (outside / "new.txt").exists()


@pytest.mark.parametrize("name", ["My Project", "a.b_c", "---", "x" * 100])
def test_bucket_names_are_valid_s3_names(name: str) -> None:
    for kind in ("input", "output"):
        bucket = bucket_name(name, kind, prefix="corp-", unique="1a2b3c4d")
        assert 3 <= len(bucket) <= 63 and bucket.endswith(f"-{kind}")
        assert all(c.islower() or c.isdigit() or c == "-" for c in bucket)
        assert not bucket.startswith("-")


def _facts(s3: S3Access | None) -> ExperimentFacts:
    return ExperimentFacts(
        experiment_id="e1", project_id="p1", message="m", vcs_sha="0" * 40, vcs_branch="main",
        vcs_type="git", user_name="u", user_email="u@x", cluster_name="local",
        input_path="s3://p-input/", output_bucket="s3://p-output/", output_bucket_name="p-output",
        s3=s3,
    )  # fmt: skip


def test_replica_variables_carry_the_endpoint_and_key_only_with_s3() -> None:
    env = platform_env(_facts(S3Access("http://127.0.0.1:9", "AKID", "SECRET", "us-east-1")))
    assert env["AICHOR_OUTPUT_PATH"] == "s3://p-output/output/e1/"
    assert (
        env["AICHOR_TENSORBOARD_PATH"] == env["AICHOR_LOGS_PATH"] == "s3://p-output/tensorboard/e1/"
    )
    assert env["AWS_ENDPOINT_URL"] == env["S3_ENDPOINT"] == "http://127.0.0.1:9"
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == ("AKID", "SECRET")
    assert env["AICHOR_OUTPUT_BUCKET_NAME"] == "p-output"
    assert "AWS_ACCESS_KEY_ID" not in platform_env(_facts(None))
