"""A real Addressing for tests: every replica on 127.0.0.1, each (replica, purpose) its own port.

This is what the local engine does, minus asking the OS for free ports: ports simply count up
from `first_port`, so tests can check that the contract gives distinct ports where it must.
"""

from __future__ import annotations


class LoopbackAddressing:
    def __init__(self, first_port: int = 40000) -> None:
        self._next = first_port
        self.ports: dict[tuple[str, str], int] = {}

    def host(self, replica_name: str) -> str:
        return "127.0.0.1"

    def port(self, replica_name: str, purpose: str, default: int) -> int:
        key = (replica_name, purpose)
        if key not in self.ports:
            self.ports[key] = self._next
            self._next += 1
        return self.ports[key]
