"""Loopback networking helpers shared by every layer (the demo, TensorBoards, S3 endpoints)."""

from __future__ import annotations

import socket


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing on `host` is bound to right now (the kernel's pick): a child process
    told to listen on it will most likely get it."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])
