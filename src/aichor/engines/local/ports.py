"""Loopback addressing for the local engine: 127.0.0.1 and free ports reserved per experiment.

Every replica of every experiment shares this machine's network, so two experiments (or two
replicas of one) must never be handed the same port. A process-wide registry remembers every
port handed out until its owner releases it; each candidate is bind-tested before it is given.

The race with *other* programs (something binds the port between our test and the replica's
own bind) cannot be closed from outside the replica. We narrow it by drawing ports at random
from a range below the kernel's ephemeral range (`ip_local_port_range`, 32768+ on Linux), so
the outgoing connections of other programs, which take ephemeral ports, never land on ours.
"""

from __future__ import annotations

import random
import socket
import threading
from pathlib import Path

_LOW = 20000
"""Lowest port we hand out: above the well-known and common service ports."""
_EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_ATTEMPTS = 2000

_registry_lock = threading.Lock()
_reserved: set[int] = set()
"""Every port currently handed out by any LoopbackAddressing in this process."""


class LoopbackAddressing:
    """Addressing for replicas that share 127.0.0.1: a distinct free port per (replica, purpose).

    Satisfies `aichor.operators.base.Addressing`. Ports stay reserved until `release()`.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ports: dict[tuple[str, str], int] = {}
        self._ranges: dict[tuple[str, str], tuple[int, int]] = {}
        self._released = False

    def host(self, replica_name: str) -> str:
        return "127.0.0.1"

    def port(self, replica_name: str, purpose: str, default: int) -> int:
        """The same port for the same (replica, purpose); `default` is ignored on loopback."""
        key = (replica_name, purpose)
        with self._lock:
            if key not in self._ports:
                self._ports[key] = reserve_ports(1)[0]
            return self._ports[key]

    def port_range(self, replica_name: str, purpose: str, size: int) -> tuple[int, int]:
        """A contiguous block of `size` ports (first, last), e.g. Ray's worker port range."""
        key = (replica_name, purpose)
        with self._lock:
            if key not in self._ranges:
                block = reserve_ports(size, contiguous=True)
                self._ranges[key] = (block[0], block[-1])
            return self._ranges[key]

    def replica_names(self) -> set[str]:
        """Replicas this addressing has handed ports to (lets the engine adopt it)."""
        with self._lock:
            return {name for name, _ in self._ports} | {name for name, _ in self._ranges}

    def ports(self) -> list[int]:
        """Every port this addressing holds."""
        with self._lock:
            singles = list(self._ports.values())
            blocks = [p for first, last in self._ranges.values() for p in range(first, last + 1)]
            return singles + blocks

    def release(self) -> None:
        """Give every port back to the registry; idempotent."""
        ports = self.ports()
        with self._lock:
            if self._released:
                return
            self._released = True
        with _registry_lock:
            _reserved.difference_update(ports)


def reserve_ports(count: int, *, contiguous: bool = False) -> list[int]:
    """Reserve `count` ports no other LoopbackAddressing holds and that bind right now."""
    high = _ephemeral_start() - 1
    rng = random.SystemRandom()
    for _ in range(_ATTEMPTS):
        if contiguous:
            first = rng.randint(_LOW, high - count + 1)
            candidates = list(range(first, first + count))
        else:
            candidates = rng.sample(range(_LOW, high + 1), count)
        with _registry_lock:
            if _reserved.intersection(candidates):
                continue
            if all(_binds(port) for port in candidates):
                _reserved.update(candidates)
                return candidates
    raise RuntimeError(f"no {count} free loopback ports found between {_LOW} and {high}")


def _binds(port: int) -> bool:
    """True when nothing listens on `port` (any address) right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            # Binding 0.0.0.0 also detects listeners on a specific address such as Ray's node IP.
            sock.bind(("0.0.0.0", port))  # noqa: S104 - bind test only, closed at once
        except OSError:
            return False
    return True


def _ephemeral_start() -> int:
    try:
        return int(_EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768
