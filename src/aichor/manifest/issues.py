"""What the loader reports: one `ManifestIssue` per problem, all raised together."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aichor.errors import InvalidInput


@dataclass(frozen=True)
class ManifestIssue:
    """One problem: the field path in the user's spelling, its line (1-based), and why."""

    path: str
    """E.g. `spec.types.Workers[0].count`; empty for the document itself."""
    line: int | None
    message: str

    def render(self, source: str) -> str:
        """`source:line: path: message`, leaving out what is unknown."""
        where = f"{source}:{self.line}" if self.line is not None else source
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ManifestInvalid(InvalidInput):
    """A manifest failed to parse or validate; `errors` lists every problem, in file order."""

    def __init__(self, source: str, errors: Sequence[ManifestIssue]) -> None:
        self.source = source
        self.errors = list(errors)
        first = self.errors[0].path if self.errors else None
        super().__init__("\n".join(issue.render(source) for issue in self.errors), field=first)
